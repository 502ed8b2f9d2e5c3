//! The models, defined once for the trainer and the browser.
//!
//! [`ModelConfig`] is plain data (it is written into every manifest); [`ModelConfig::init`]
//! builds a [`Classifier`]. Named presets ([`Preset`]) give the architectures of
//! `../shared/spec/unlearning-protocol.md` §2.

pub mod flops;
pub mod layers;
pub mod resnet;
pub mod vit;

use std::fmt;
use std::str::FromStr;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::data::DatasetKind;
pub use layers::{ConvBn, Dense, LayerMut, Taps, name_matches};
pub use resnet::{ResNet, ResNetConfig};
pub use vit::{SimpleVit, VitConfig};

/// A named architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// CIFAR ResNet-20 (272,474 params).
    Resnet20,
    /// CIFAR ResNet-18 (basic blocks, 64–512 wide).
    Resnet18,
    /// CIFAR ResNet-50 (bottlenecks; 23,520,842 params).
    Resnet50,
    /// SimpleViT 192/6/3, MLP 384 — sized for CPU training.
    VitTiny,
    /// SimpleViT 384/12/6, MLP 1536 — the PruneLoRA paper's ViT.
    VitPaper,
}

impl Preset {
    /// Every preset, in display order.
    pub const ALL: [Preset; 5] = [
        Preset::Resnet20,
        Preset::Resnet18,
        Preset::Resnet50,
        Preset::VitTiny,
        Preset::VitPaper,
    ];

    /// The preset's name as typed on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Resnet20 => "resnet20",
            Preset::Resnet18 => "resnet18",
            Preset::Resnet50 => "resnet50",
            Preset::VitTiny => "vit-tiny",
            Preset::VitPaper => "vit-paper",
        }
    }

    /// Whether this preset is a ResNet (SGD recipe) rather than a ViT (AdamW recipe).
    pub fn is_resnet(self) -> bool {
        matches!(self, Preset::Resnet20 | Preset::Resnet18 | Preset::Resnet50)
    }

    /// The preset's architecture for a dataset (input channels, image size, 10 classes).
    pub fn config(self, dataset: DatasetKind) -> ModelConfig {
        let (channels, size, classes) = (
            dataset.channels(),
            dataset.image_size(),
            dataset.num_classes(),
        );
        let architecture = match self {
            Preset::Resnet20 => Architecture::ResNet(ResNetConfig::resnet20(channels, classes)),
            Preset::Resnet18 => Architecture::ResNet(ResNetConfig::resnet18(channels, classes)),
            Preset::Resnet50 => Architecture::ResNet(ResNetConfig::resnet50(channels, classes)),
            Preset::VitTiny => Architecture::Vit(VitConfig::vit_tiny(size, channels, classes)),
            Preset::VitPaper => Architecture::Vit(VitConfig::vit_paper(size, channels, classes)),
        };
        ModelConfig {
            preset: self,
            dataset,
            architecture,
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A model name that is not one of the presets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown model `{0}`: expected one of resnet20, resnet18, resnet50, vit-tiny, vit-paper")]
pub struct UnknownPreset(pub String);

impl FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|preset| preset.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownPreset(name.to_owned()))
    }
}

/// The layer-level description of an architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "kebab-case")]
pub enum Architecture {
    /// A CIFAR ResNet.
    #[serde(rename = "resnet")]
    ResNet(ResNetConfig),
    /// A SimpleViT.
    Vit(VitConfig),
}

/// Everything needed to rebuild a model: its preset name, the dataset it reads (which fixes
/// the input shape and normalisation) and the exact architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// The preset the architecture came from.
    pub preset: Preset,
    /// The dataset the model classifies.
    pub dataset: DatasetKind,
    /// Layer-level architecture.
    pub architecture: Architecture,
}

impl ModelConfig {
    /// Build the model with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> Classifier {
        match &self.architecture {
            Architecture::ResNet(config) => Classifier::ResNet(config.init(device)),
            Architecture::Vit(config) => Classifier::Vit(config.init(device)),
        }
    }

    /// Short human description, e.g. `resnet20 on cifar10`.
    pub fn describe(&self) -> String {
        format!("{} on {}", self.preset, self.dataset.name())
    }
}

/// Any Lethe classifier. Input images must be normalised with
/// [`crate::preprocess`] first.
// Both variants hold small structs of tensor handles (a few hundred bytes of difference); boxing
// would change nothing that matters and complicate the Module derive.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Classifier {
    /// A CIFAR ResNet.
    ResNet(ResNet),
    /// A SimpleViT.
    Vit(SimpleVit),
}

impl Classifier {
    /// Logits. Shapes: `[batch, channels, h, w]` → `[batch, num_classes]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Classifier::ResNet(model) => model.forward(images),
            Classifier::Vit(model) => model.forward(images),
        }
    }

    /// Penultimate features. Shapes: `[batch, channels, h, w]` → `[batch, features]`.
    pub fn features(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Classifier::ResNet(model) => model.features(images),
            Classifier::Vit(model) => model.features(images),
        }
    }

    /// Features and logits in one pass, reporting every adapter's residual energy to `taps`.
    /// Shapes: `[batch, channels, h, w]` → (`[batch, features]`, `[batch, num_classes]`).
    pub fn forward_tapped(&self, images: Tensor<4>, taps: &mut Taps) -> (Tensor<2>, Tensor<2>) {
        match self {
            Classifier::ResNet(model) => model.forward_tapped(images, taps),
            Classifier::Vit(model) => model.forward_tapped(images, taps),
        }
    }

    /// Visit every adaptable / prunable layer with its dotted name (see
    /// [`ResNet::for_each_layer_mut`] and [`SimpleVit::for_each_layer_mut`]).
    pub fn for_each_layer_mut(&mut self, visit: &mut dyn FnMut(&str, LayerMut<'_>)) {
        match self {
            Classifier::ResNet(model) => model.for_each_layer_mut(visit),
            Classifier::Vit(model) => model.for_each_layer_mut(visit),
        }
    }

    /// Lethe's inference path, the same everywhere (the page, `lethe predict`, evaluation,
    /// `lethe bench`'s `infer`): inference mode ([`Module::valid`]) with every BatchNorm folded
    /// into its convolution ([`Classifier::fold_batch_norm`]). For inference only: do not train
    /// or save the result.
    pub fn for_inference(&self) -> Classifier {
        let mut model = self.valid();
        model.fold_batch_norm();
        model
    }

    /// Fold every BatchNorm into the convolution before it ([`ConvBn::fold_batch_norm`]) for
    /// faster inference; returns how many layers were folded (0 for a ViT, which has none).
    /// Layers with an unmerged adapter are left as they are.
    ///
    /// The folded model gives the same logits up to float rounding, but is for inference only:
    /// do not train it or save it.
    pub fn fold_batch_norm(&mut self) -> usize {
        let mut folded = 0;
        self.for_each_layer_mut(&mut |_, layer| {
            if let LayerMut::Conv(conv_bn) = layer
                && conv_bn.fold_batch_norm()
            {
                folded += 1;
            }
        });
        folded
    }

    /// Names of every adaptable / prunable layer, in forward order.
    pub fn layer_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        // Visiting needs `&mut`; a clone shares the tensors, so this copies no weights.
        self.clone()
            .for_each_layer_mut(&mut |name, _| names.push(name.to_owned()));
        names
    }

    /// Learnable parameters, the count papers report. Unlike [`Module::num_params`] this leaves
    /// out BatchNorm running statistics, which are state, not parameters.
    pub fn learnable_params(&self) -> usize {
        let mut counter = LearnableCounter::default();
        self.visit(&mut counter);
        counter.count
    }
}

/// Counts float parameters outside BatchNorm's `running_mean` / `running_var`.
#[derive(Default)]
struct LearnableCounter {
    path: Vec<String>,
    count: usize,
}

impl ModuleVisitor for LearnableCounter {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let running_statistic = self
            .path
            .last()
            .is_some_and(|name| name.starts_with("running_"));
        if !running_statistic {
            self.count += param.shape().num_elements();
        }
    }
}
