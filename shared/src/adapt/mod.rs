//! Building blocks of the pruning- and adapter-based unlearning methods: LoRA for linear and
//! conv layers, attached to any preset by layer-name pattern and merged back ([`lora`]),
//! structured L2 pruning of output channels with kept or dropped masks ([`prune`]), and the
//! slim export that physically removes dead channels ([`slim`]); with the `train` feature,
//! PruneLoRA's set-up and training step, shared by the trainer and the page (`prunelora`).

pub mod lora;
pub mod prune;
#[cfg(feature = "train")]
pub mod prunelora;
pub mod slim;

/// Errors of the adapter / pruning operations.
#[derive(Debug, thiserror::Error)]
pub enum AdaptError {
    /// A layer pattern names no layer of the model.
    #[error("no layer matches `{pattern}`; the model's layers are: {available}")]
    NoMatchingLayer {
        /// The pattern given.
        pattern: String,
        /// Every layer name of the model.
        available: String,
    },
    /// The pruning amount is outside [0, 1).
    #[error("pruning amount must be in [0, 1), got {0}")]
    BadAmount(f64),
    /// A mask does not fit the model it is applied to.
    #[error("the pruning mask does not fit this model: {0}")]
    MaskMismatch(String),
    /// Slim export needs a model whose pruned channels are dead.
    #[error("slim export: {0}")]
    NotSlimmable(String),
}
