//! The burn engine (`--engine burn`, cargo feature `burn`): the same models, training and model
//! files as the native engine, run by the [burn](https://burn.dev) framework, so that a user
//! with a GPU runs the very same study there.
//!
//! # Backends
//! `burn` compiles burn's pure-Rust CPU backend (flex), which CI tests; the features `cuda`
//! (NVIDIA: the driver and NVRTC at run time) and `wgpu` (Vulkan, Metal, DirectX 12) add GPU
//! backends. [`BurnEngine::from_env`] (what `--engine burn` uses) runs on the environment
//! variable `NSTUDENT_BURN_DEVICE` — `flex`, `cuda`, `cuda:N` (GPU number N) or `wgpu` — and,
//! when it is unset or `auto`, on the best backend compiled in: CUDA, then wgpu, then flex.
//!
//! # Same model, same training
//! - Initial weights are the native engine's for the same seed (Glorot-uniform kernels, zero
//!   biases), so `build(spec, seed)` gives the same model in both engines.
//! - Training draws the epoch order, the augmentation of every image and the dropout and
//!   stochastic-depth masks from the seed exactly as the native engine does, so both engines
//!   see the same batches and masks; they differ only by float rounding.
//! - Loss: softmax cross-entropy (mean over the batch) on hard or soft targets.
//! - Optimiser: burn's Adam with lr [`FitOptions::learning_rate`], betas 0.9 / 0.999, eps 1e-7,
//!   fresh at every fit. Burn computes `p -= lr * m * c / (sqrt(v) + eps * sqrt(1 - b2^t))`
//!   with `c = sqrt(1 - b2^t) / (1 - b1^t)`, which is PyTorch's form
//!   `p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)` rearranged: the same step
//!   up to rounding, as in the native engine.
//! - [`FitOptions::threads`] sizes the CPU thread pool of the flex backend;
//!   GPU backends ignore it. With a seed and thread count, flex training is deterministic.
//!
//! Model files are the native engine's (PyTorch layout; burn's linear weights are the
//! transpose and are converted on save and load), so a model saved by one engine loads in the
//! other with the same probabilities.

mod model;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Tensor, TensorData};
use nstudent_core::{ImageShape, ImagesRef};

use crate::model_file::{self, ModelFile};
use crate::native::{augment_rng, shuffle, BatchNoise};
use crate::{
    checks, Classifier, Engine, Error, FitOptions, FitProgress, FitReport, ModelSpec,
    NativeClassifier, Result, Targets, Threads,
};
use model::{Net, Noise, TorchTensors};

/// Environment variable that picks the burn backend (see the module documentation).
pub const DEVICE_ENV: &str = "NSTUDENT_BURN_DEVICE";

/// A burn backend and device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurnBackend {
    /// Burn's pure-Rust CPU backend.
    Flex,
    /// An NVIDIA GPU, by number (feature `cuda`).
    Cuda(usize),
    /// The default GPU of wgpu: Vulkan, Metal or DirectX 12 (feature `wgpu`).
    Wgpu,
}

impl std::fmt::Display for BurnBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BurnBackend::Flex => write!(f, "flex"),
            BurnBackend::Cuda(i) => write!(f, "cuda:{i}"),
            BurnBackend::Wgpu => write!(f, "wgpu"),
        }
    }
}

impl BurnBackend {
    /// The best backend compiled in: CUDA, then wgpu, then flex.
    pub fn best() -> Self {
        if cfg!(feature = "cuda") {
            BurnBackend::Cuda(0)
        } else if cfg!(feature = "wgpu") {
            BurnBackend::Wgpu
        } else {
            BurnBackend::Flex
        }
    }

    /// Parses `auto`, `flex`, `cuda`, `cuda:N` or `wgpu`, checking that it is compiled in.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        let backend = match s.as_str() {
            "" | "auto" => return Ok(Self::best()),
            "flex" | "cpu" => BurnBackend::Flex,
            "cuda" => BurnBackend::Cuda(0),
            "wgpu" => BurnBackend::Wgpu,
            _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(i)) => BurnBackend::Cuda(i),
                _ => {
                    return Err(Error::Invalid(format!(
                        "unknown burn device {s:?} in {DEVICE_ENV}; choose auto, flex, cuda, \
                         cuda:N or wgpu"
                    )))
                }
            },
        };
        let (compiled, feature) = match backend {
            BurnBackend::Flex => (true, "burn"),
            BurnBackend::Cuda(_) => (cfg!(feature = "cuda"), "cuda"),
            BurnBackend::Wgpu => (cfg!(feature = "wgpu"), "wgpu"),
        };
        if !compiled {
            return Err(Error::Invalid(format!(
                "{DEVICE_ENV}={s} needs the burn {feature} backend; rebuild nstudent with \
                 `--features {feature}`"
            )));
        }
        Ok(backend)
    }

    fn device(self) -> Device {
        match self {
            BurnBackend::Flex => Device::flex(),
            #[cfg(feature = "cuda")]
            BurnBackend::Cuda(i) => Device::cuda(i),
            #[cfg(feature = "wgpu")]
            BurnBackend::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
            #[allow(unreachable_patterns)]
            other => unreachable!("BurnBackend::parse admits only compiled backends, not {other}"),
        }
    }

    /// The backend and, for a GPU backend, the device's name as its driver reports it (this
    /// opens the device): `flex`, `wgpu: llvmpipe (LLVM 15.0.6, 256 bits)`,
    /// `cuda:0: NVIDIA H100 80GB HBM3`.
    pub fn describe(self) -> String {
        match self.device_name() {
            Some(name) => format!("{self}: {name}"),
            None => self.to_string(),
        }
    }

    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    fn device_name(self) -> Option<String> {
        if self == BurnBackend::Flex {
            return None;
        }
        guarded("naming the device", || {
            Ok(self.device().identity().map(|id| id.name))
        })
        .ok()
        .flatten()
    }

    #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
    fn device_name(self) -> Option<String> {
        None
    }

    /// Images per forward pass when predicting: GPUs want large batches, the CPU backend's
    /// activations stay in cache at a few hundred.
    fn predict_chunk(self) -> usize {
        match self {
            BurnBackend::Flex => 256,
            _ => 1024,
        }
    }
}

/// Runs burn code, turning a panic inside the framework (an unusable GPU, device memory
/// exhausted) into an error instead of taking the whole study down.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        Err(Error::Internal(format!("burn failed while {what}: {msg}")))
    })
}

/// Runs a tiny computation on `backend`'s device.
fn probe(backend: BurnBackend) -> Result<()> {
    guarded("opening the device", || {
        let device = backend.device();
        let t: Tensor<1> = Tensor::from_data(TensorData::new(vec![1.0f32, 2.0], [2]), &device);
        let v: f32 = (t * 2.0).sum().try_into_scalar().map_err(device_error)?;
        if v == 6.0 {
            Ok(())
        } else {
            Err(Error::Internal(format!("1 * 2 + 2 * 2 gave {v}")))
        }
    })
    .map_err(|e| {
        Error::Invalid(format!(
            "the burn {backend} device does not work ({e}); choose another with \
             {DEVICE_ENV}=flex|cuda|cuda:N|wgpu"
        ))
    })
}

/// The burn engine on one backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BurnEngine {
    backend: BurnBackend,
}

impl BurnEngine {
    /// The engine on `backend`; errors when that backend is not compiled in or its device does
    /// not work (no GPU, no driver), so a study fails before it starts rather than mid-way.
    pub fn new(backend: BurnBackend) -> Result<Self> {
        let backend = BurnBackend::parse(&backend.to_string())?;
        probe(backend)?;
        Ok(Self { backend })
    }

    /// The engine on the backend named by `NSTUDENT_BURN_DEVICE`, or the best compiled in.
    pub fn from_env() -> Result<Self> {
        let backend = match std::env::var(DEVICE_ENV) {
            Ok(v) => BurnBackend::parse(&v)?,
            Err(std::env::VarError::NotPresent) => BurnBackend::best(),
            Err(e) => return Err(Error::Invalid(format!("{DEVICE_ENV}: {e}"))),
        };
        Self::new(backend)
    }

    pub fn backend(&self) -> BurnBackend {
        self.backend
    }

    /// A burn model with the weights (and class names) of a native one.
    pub fn from_native(&self, model: &NativeClassifier) -> Result<BurnClassifier> {
        let tensors: TorchTensors = model.torch_tensors().into_iter().collect();
        let mut m = BurnClassifier::from_torch(self.backend, model.spec(), &tensors)?;
        m.class_names = model.class_names().to_vec();
        Ok(m)
    }
}

impl Engine for BurnEngine {
    fn name(&self) -> &'static str {
        "burn"
    }

    fn device(&self) -> String {
        self.backend.describe()
    }

    fn build(&self, spec: &ModelSpec, seed: u64) -> Result<Box<dyn Classifier>> {
        Ok(Box::new(
            self.from_native(&NativeClassifier::new(spec, seed)?)?,
        ))
    }

    fn load(&self, path: &Path) -> Result<Box<dyn Classifier>> {
        // The native loader validates the file (format, spec, every tensor's shape).
        Ok(Box::new(self.from_native(&NativeClassifier::load(path)?)?))
    }
}

/// A model of the burn engine.
#[derive(Debug)]
pub struct BurnClassifier {
    spec: ModelSpec,
    backend: BurnBackend,
    device: Device,
    /// Weights on `device`, in eval mode (no autodiff).
    net: Net,
    class_names: Vec<String>,
    /// The threads predictions run on (the CPU backend; a fit sets them to its own).
    threads: Threads,
}

/// Pixels of `n` `(H, W, C)` images to `(N, C, H, W)` values in [0, 1], into `out`.
fn to_nchw(pixels: &[u8], shape: ImageShape, out: &mut Vec<f32>) {
    let (h, w, c) = (shape.height, shape.width, shape.channels);
    let n = pixels.len() / shape.len();
    out.clear();
    out.resize(pixels.len(), 0.0);
    for i in 0..n {
        let img = &pixels[i * shape.len()..(i + 1) * shape.len()];
        let dst = &mut out[i * shape.len()..(i + 1) * shape.len()];
        for (p, px) in img.chunks_exact(c).enumerate() {
            for (ch, &v) in px.iter().enumerate() {
                dst[ch * h * w + p] = f32::from(v) / 255.0;
            }
        }
    }
}

fn device_error(e: impl std::fmt::Debug) -> Error {
    Error::Internal(format!("burn device error: {e:?}"))
}

impl BurnClassifier {
    fn from_torch(backend: BurnBackend, spec: &ModelSpec, tensors: &TorchTensors) -> Result<Self> {
        let device = backend.device();
        let net = guarded("loading weights to the device", || {
            Net::from_torch(spec, tensors, &device)
        })?;
        Ok(Self {
            spec: spec.clone(),
            backend,
            device,
            net,
            class_names: Vec::new(),
            threads: Threads::all_cores(),
        })
    }

    /// The backend this model runs on.
    pub fn backend(&self) -> BurnBackend {
        self.backend
    }

    /// Parameter tensors by PyTorch name, in PyTorch's layout (what [`Classifier::save`] writes).
    pub fn torch_tensors(&self) -> Result<Vec<(String, crate::TensorData)>> {
        let t = guarded("reading weights", || self.net.to_torch())?;
        Ok(t.into_iter().collect())
    }

    /// The same model in the native engine.
    pub fn to_native(&self) -> Result<NativeClassifier> {
        let mut m = NativeClassifier::new(&self.spec, 0)?;
        for (name, t) in self.torch_tensors()? {
            m.set_torch_tensor(&name, &t.values)?;
        }
        m.set_class_names(self.class_names.clone());
        Ok(m)
    }

    fn input(&self, nchw: Vec<f32>, n: usize, device: &Device) -> Tensor<4> {
        let s = self.spec.input;
        Tensor::from_data(
            TensorData::new(nchw, [n, s.channels, s.height, s.width]),
            device,
        )
    }

    /// The training loop; runs on the flex thread pool when there is one.
    fn train(
        &self,
        images: ImagesRef<'_>,
        targets: Targets<'_>,
        options: &FitOptions,
        progress: &mut dyn FnMut(FitProgress),
    ) -> Result<(Net, Vec<f32>)> {
        let started = Instant::now();
        let n = images.len();
        let k = self.spec.num_classes;
        let shape = self.spec.input;
        let img_len = shape.len();
        let batch = options.batch_size.min(n);
        let batches = n.div_ceil(batch);
        let device = self.device.clone().autodiff();
        let mut net = self.net.clone().train();
        let mut optim = AdamConfig::new()
            .with_beta_1(0.9)
            .with_beta_2(0.999)
            .with_epsilon(1e-7)
            .init();
        let lr = f64::from(options.learning_rate);
        let mut noise = BatchNoise::new(&self.spec, batch);
        let mut order: Vec<usize> = (0..n).collect();
        let mut pixels = vec![0u8; batch * img_len];
        let mut x = Vec::with_capacity(batch * img_len);
        let mut t = vec![0.0f32; batch * k];
        let mut epoch_losses = Vec::with_capacity(options.epochs);
        for epoch in 0..options.epochs {
            shuffle(&mut order, options.seed, epoch);
            let mut epoch_loss = 0.0f64;
            for bi in 0..batches {
                let idx = &order[bi * batch..((bi + 1) * batch).min(n)];
                let nb = idx.len();
                t[..nb * k].fill(0.0);
                for (slot, &i) in idx.iter().enumerate() {
                    let dst = &mut pixels[slot * img_len..(slot + 1) * img_len];
                    match &options.augment {
                        Some(aug) => {
                            let mut r = augment_rng(options.seed, epoch, bi, slot);
                            aug.apply(images.image(i), shape, &mut r, dst)
                        }
                        None => dst.copy_from_slice(images.image(i)),
                    }
                    let row = &mut t[slot * k..(slot + 1) * k];
                    match targets {
                        Targets::Hard(l) => row[usize::from(l[i])] = 1.0,
                        Targets::Soft { probs, .. } => {
                            row.copy_from_slice(&probs[i * k..(i + 1) * k])
                        }
                    }
                }
                to_nchw(&pixels[..nb * img_len], shape, &mut x);
                noise.draw(options.seed, epoch, bi, nb);
                let step_noise = Noise {
                    depth: [0, 1].map(|b| {
                        noise
                            .depth(b)
                            .map(|m| Tensor::from_data(TensorData::new(m.to_vec(), [nb]), &device))
                    }),
                    dropout: noise.dropout().map(|m| {
                        let units = m.len() / nb;
                        Tensor::from_data(TensorData::new(m.to_vec(), [nb, units]), &device)
                    }),
                };
                let input = self.input(std::mem::take(&mut x), nb, &device);
                let target: Tensor<2> =
                    Tensor::from_data(TensorData::new(t[..nb * k].to_vec(), [nb, k]), &device);
                let logits = net.forward(input, &step_noise);
                let loss = (log_softmax(logits, 1) * target).sum_dim(1).mean().neg();
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                net = optim.step(lr, net, grads);
                let loss: f32 = loss.try_into_scalar().map_err(device_error)?;
                epoch_loss += f64::from(loss) * nb as f64;
                progress(FitProgress {
                    epoch,
                    batch: bi + 1,
                    batches_per_epoch: batches,
                    loss,
                    images: ((bi + 1) * batch).min(n),
                    epoch_images: n,
                    epoch_loss: (bi + 1 == batches).then(|| (epoch_loss / n as f64) as f32),
                    seconds: started.elapsed().as_secs_f64(),
                });
            }
            epoch_losses.push((epoch_loss / n as f64) as f32);
        }
        Ok((net.valid(), epoch_losses))
    }
}

impl Classifier for BurnClassifier {
    fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    fn fit(
        &mut self,
        images: ImagesRef<'_>,
        targets: Targets<'_>,
        options: &FitOptions,
        progress: &mut dyn FnMut(FitProgress),
    ) -> Result<FitReport> {
        let started = Instant::now();
        checks::images(&self.spec, &images)?;
        let n = images.len();
        checks::targets(&self.spec, &targets, n)?;
        checks::fit_options(options)?;
        self.threads = options.threads;
        if n == 0 || options.epochs == 0 {
            return Ok(FitReport {
                epoch_losses: Vec::new(),
                seconds: started.elapsed().as_secs_f64(),
            });
        }
        let (net, epoch_losses) = match self.backend {
            BurnBackend::Flex => {
                // The calling thread's pool, reused by its later fits and predictions.
                let pool = crate::native::threads::pool_of(options.threads.get())?;
                // Training runs on the pool (so flex's kernels use its threads); progress
                // comes back to the caller's thread.
                let (tx, rx) = std::sync::mpsc::channel();
                let this = &*self;
                std::thread::scope(|s| {
                    // `tx` moves into the worker, so the loop below ends with the training.
                    let worker = s.spawn(move || {
                        pool.install(|| {
                            guarded("training", || {
                                this.train(images, targets, options, &mut |p| {
                                    let _ = tx.send(p);
                                })
                            })
                        })
                    });
                    for p in rx.iter() {
                        progress(p);
                    }
                    worker
                        .join()
                        .unwrap_or_else(|_| Err(Error::Internal("training thread panicked".into())))
                })?
            }
            _ => guarded("training", || {
                self.train(images, targets, options, progress)
            })?,
        };
        let weights = guarded("reading weights", || net.to_torch())?;
        if weights
            .values()
            .any(|t| t.values.iter().any(|v| !v.is_finite()))
        {
            return Err(Error::Invalid(
                "training diverged (non-finite weights); lower the learning rate".into(),
            ));
        }
        self.net = net;
        Ok(FitReport {
            epoch_losses,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    fn predict_proba(&self, images: ImagesRef<'_>) -> Result<Vec<f32>> {
        self.predict_proba_on(images, self.threads)
    }

    fn predict_proba_on(&self, images: ImagesRef<'_>, threads: Threads) -> Result<Vec<f32>> {
        checks::images(&self.spec, &images)?;
        let k = self.spec.num_classes;
        let img_len = self.spec.input.len();
        let mut out = Vec::with_capacity(images.len() * k);
        let chunk = self.backend.predict_chunk();
        let mut predict = || {
            guarded("predicting", || {
                let mut x = Vec::new();
                for px in images.pixels.chunks(chunk * img_len) {
                    let cnt = px.len() / img_len;
                    to_nchw(px, self.spec.input, &mut x);
                    let input = self.input(std::mem::take(&mut x), cnt, &self.device);
                    let probs = softmax(self.net.forward(input, &Noise::default()), 1);
                    let data = probs.try_into_data().map_err(device_error)?;
                    out.extend_from_slice(data.as_slice::<f32>().map_err(device_error)?);
                }
                Ok(())
            })
        };
        match self.backend {
            // The CPU backend runs on rayon's current pool: the caller's, never the global one.
            BurnBackend::Flex => {
                crate::native::threads::pool_of(threads.get())?.install(predict)?
            }
            _ => predict()?,
        }
        Ok(out)
    }

    fn save(&self, path: &Path) -> Result<()> {
        let tensors = guarded("reading weights", || self.net.to_torch())?;
        model_file::write(
            path,
            &ModelFile {
                spec: self.spec.clone(),
                class_names: self.class_names.clone(),
                tensors,
            },
        )
    }

    fn set_class_names(&mut self, names: Vec<String>) {
        self.class_names = names;
    }

    fn set_threads(&mut self, threads: Threads) {
        self.threads = threads;
    }

    fn class_names(&self) -> &[String] {
        &self.class_names
    }
}
