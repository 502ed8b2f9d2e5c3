//! Building blocks of the pruning- and adapter-based unlearning methods: LoRA for linear and
//! conv layers ([`lora`]) and structured L2 pruning of output channels ([`prune`]).

pub mod lora;
pub mod prune;
