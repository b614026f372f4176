//! The study's model family as burn modules, with conversion to and from the PyTorch-layout
//! tensors of nstudent's model files.

use std::collections::BTreeMap;

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor, TensorData};

use crate::model_file::TensorData as FileTensor;
use crate::{Arch, Error, ModelSpec, Result};

/// A residual block: `relu(shortcut(x) + m * conv2(relu(conv1(x))))`, `m` the image's
/// stochastic-depth factor in training and 1 in eval mode.
#[derive(Module, Debug)]
pub(crate) struct ResBlock {
    conv1: Conv2d,
    conv2: Conv2d,
    /// 1x1 convolution where the block changes the channel count; identity otherwise.
    shortcut: Option<Conv2d>,
}

/// The convolutional layers of [`Arch::Cnn`].
#[derive(Module, Debug)]
pub(crate) struct Plain {
    conv1: Conv2d,
    conv2: Conv2d,
}

/// The convolutional layers of [`Arch::ResCnn`].
#[derive(Module, Debug)]
pub(crate) struct Residual {
    stem: Conv2d,
    block1: ResBlock,
    block2: ResBlock,
}

/// The architecture's convolutional body. A model holds one, so the size difference between
/// the variants costs nothing (and burn's `Module` derive has no `Box`).
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Body {
    Plain(Plain),
    Residual(Residual),
}

/// A model of the study: convolutional body, then `fc1` (ReLU, dropout) and `fc2`. Field
/// names are the PyTorch module names of the model file.
#[derive(Module, Debug)]
pub(crate) struct Net {
    body: Body,
    fc1: Linear,
    fc2: Linear,
}

/// Training noise of one batch, already on the device.
#[derive(Default)]
pub(crate) struct Noise {
    /// Per-image factors of each residual block, shape `[n]`.
    pub depth: [Option<Tensor<1>>; 2],
    /// Dropout factors of the hidden dense layer, shape `[n, units]`.
    pub dropout: Option<Tensor<2>>,
}

/// Tensors by PyTorch name, in PyTorch's layout.
pub(crate) type TorchTensors = BTreeMap<String, FileTensor>;

fn get<'a>(t: &'a TorchTensors, name: &str, shape: &[usize]) -> Result<&'a FileTensor> {
    let v = t
        .get(name)
        .ok_or_else(|| Error::Internal(format!("missing tensor {name}")))?;
    if v.shape != shape || v.values.len() != shape.iter().product::<usize>() {
        return Err(Error::Internal(format!(
            "tensor {name} has shape {:?}, expected {shape:?}",
            v.shape
        )));
    }
    Ok(v)
}

fn param<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

/// A convolution with PyTorch's `(out, in, k, k)` kernel (burn's layout too), "same" padding.
fn conv(
    t: &TorchTensors,
    name: &str,
    cin: usize,
    cout: usize,
    k: usize,
    device: &Device,
) -> Result<Conv2d> {
    let w = get(t, &format!("{name}.weight"), &[cout, cin, k, k])?;
    let b = get(t, &format!("{name}.bias"), &[cout])?;
    let pad = k / 2;
    Ok(Conv2d {
        weight: param(w.values.clone(), [cout, cin, k, k], device),
        bias: Some(param(b.values.clone(), [cout], device)),
        stride: [1, 1],
        kernel_size: [k, k],
        dilation: [1, 1],
        groups: 1,
        padding: PaddingConfig2d::Explicit(pad, pad, pad, pad),
    })
}

/// A dense layer: PyTorch stores `(out, in)`, burn `(in, out)`.
fn linear(
    t: &TorchTensors,
    name: &str,
    nin: usize,
    nout: usize,
    device: &Device,
) -> Result<Linear> {
    let w = get(t, &format!("{name}.weight"), &[nout, nin])?;
    let b = get(t, &format!("{name}.bias"), &[nout])?;
    Ok(Linear {
        weight: param(transpose(&w.values, nout, nin), [nin, nout], device),
        bias: Some(param(b.values.clone(), [nout], device)),
    })
}

/// The transpose of a row-major `rows x cols` matrix.
fn transpose(v: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; v.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = v[r * cols + c];
        }
    }
    out
}

fn read<const D: usize>(p: &Param<Tensor<D>>) -> Result<(Vec<usize>, Vec<f32>)> {
    let t = p.val();
    let shape = t.dims().to_vec();
    let values = t
        .try_into_data()
        .map_err(|e| Error::Internal(format!("cannot read weights from the device: {e:?}")))?
        .try_into_vec::<f32>()
        .map_err(|e| Error::Internal(format!("unexpected weight type: {e:?}")))?;
    Ok((shape, values))
}

fn push_conv(out: &mut TorchTensors, name: &str, c: &Conv2d) -> Result<()> {
    let (shape, values) = read(&c.weight)?;
    out.insert(format!("{name}.weight"), FileTensor { shape, values });
    if let Some(b) = &c.bias {
        let (shape, values) = read(b)?;
        out.insert(format!("{name}.bias"), FileTensor { shape, values });
    }
    Ok(())
}

fn push_linear(out: &mut TorchTensors, name: &str, l: &Linear) -> Result<()> {
    let (shape, values) = read(&l.weight)?;
    let (nin, nout) = (shape[0], shape[1]);
    out.insert(
        format!("{name}.weight"),
        FileTensor {
            shape: vec![nout, nin],
            values: transpose(&values, nin, nout),
        },
    );
    if let Some(b) = &l.bias {
        let (shape, values) = read(b)?;
        out.insert(format!("{name}.bias"), FileTensor { shape, values });
    }
    Ok(())
}

fn pool(x: Tensor<4>) -> Tensor<4> {
    max_pool2d(x, MaxPoolOptions::new([2, 2]))
}

impl ResBlock {
    fn from_torch(
        t: &TorchTensors,
        name: &str,
        cin: usize,
        cout: usize,
        device: &Device,
    ) -> Result<Self> {
        Ok(Self {
            conv1: conv(t, &format!("{name}.conv1"), cin, cout, 3, device)?,
            conv2: conv(t, &format!("{name}.conv2"), cout, cout, 3, device)?,
            shortcut: if cin != cout {
                Some(conv(t, &format!("{name}.shortcut"), cin, cout, 1, device)?)
            } else {
                None
            },
        })
    }

    fn forward(&self, x: Tensor<4>, depth: Option<&Tensor<1>>) -> Tensor<4> {
        let branch = self.conv2.forward(relu(self.conv1.forward(x.clone())));
        let branch = match depth {
            Some(m) => {
                let n = m.dims()[0];
                branch * m.clone().reshape([n, 1, 1, 1])
            }
            None => branch,
        };
        let shortcut = match &self.shortcut {
            Some(s) => s.forward(x),
            None => x,
        };
        relu(shortcut + branch)
    }

    fn to_torch(&self, out: &mut TorchTensors, name: &str) -> Result<()> {
        push_conv(out, &format!("{name}.conv1"), &self.conv1)?;
        push_conv(out, &format!("{name}.conv2"), &self.conv2)?;
        if let Some(s) = &self.shortcut {
            push_conv(out, &format!("{name}.shortcut"), s)?;
        }
        Ok(())
    }
}

impl Net {
    /// The model of a (validated) `spec` with the weights of a model file.
    pub fn from_torch(spec: &ModelSpec, t: &TorchTensors, device: &Device) -> Result<Self> {
        let c = spec.input.channels;
        let (c1, c2, d) = spec.widths();
        let flat = (spec.input.height / 4) * (spec.input.width / 4) * c2;
        let body = match spec.arch {
            Arch::Cnn => Body::Plain(Plain {
                conv1: conv(t, "conv1", c, c1, 3, device)?,
                conv2: conv(t, "conv2", c1, c2, 3, device)?,
            }),
            Arch::ResCnn => Body::Residual(Residual {
                stem: conv(t, "stem", c, c1, 3, device)?,
                block1: ResBlock::from_torch(t, "block1", c1, c1, device)?,
                block2: ResBlock::from_torch(t, "block2", c1, c2, device)?,
            }),
        };
        Ok(Net {
            body,
            fc1: linear(t, "fc1", flat, d, device)?,
            fc2: linear(t, "fc2", d, spec.num_classes, device)?,
        })
    }

    /// The weights by PyTorch name in PyTorch's layout (what model files hold).
    pub fn to_torch(&self) -> Result<TorchTensors> {
        let mut out = TorchTensors::new();
        match &self.body {
            Body::Plain(p) => {
                push_conv(&mut out, "conv1", &p.conv1)?;
                push_conv(&mut out, "conv2", &p.conv2)?;
            }
            Body::Residual(r) => {
                push_conv(&mut out, "stem", &r.stem)?;
                r.block1.to_torch(&mut out, "block1")?;
                r.block2.to_torch(&mut out, "block2")?;
            }
        }
        push_linear(&mut out, "fc1", &self.fc1)?;
        push_linear(&mut out, "fc2", &self.fc2)?;
        Ok(out)
    }

    /// Logits `[n, classes]` of `x` (`[n, c, h, w]` pixels / 255); `noise` is empty in eval mode.
    pub fn forward(&self, x: Tensor<4>, noise: &Noise) -> Tensor<2> {
        let x = match &self.body {
            Body::Plain(p) => {
                let x = pool(relu(p.conv1.forward(x)));
                pool(relu(p.conv2.forward(x)))
            }
            Body::Residual(r) => {
                let x = relu(r.stem.forward(x));
                let x = pool(r.block1.forward(x, noise.depth[0].as_ref()));
                pool(r.block2.forward(x, noise.depth[1].as_ref()))
            }
        };
        // NCHW flattens in PyTorch's (C, H, W) order, as fc1's weights expect.
        let [n, c, h, w] = x.dims();
        let x = relu(self.fc1.forward(x.reshape([n, c * h * w])));
        let x = match &noise.dropout {
            Some(m) => x * m.clone(),
            None => x,
        };
        self.fc2.forward(x)
    }
}
