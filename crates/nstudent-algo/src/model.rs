//! A trained model of any algorithm: one classifier or an ensemble whose probabilities are
//! averaged.
//!
//! On disk a single model is the engine's safetensors file. An ensemble is a directory holding
//! `ensemble.json` (format marker and member file names) and one safetensors file per member,
//! `member-1.safetensors`, ...; each member file is an ordinary model that the engine (or
//! PyTorch) loads on its own. Saving writes a temporary sibling first and renames it into
//! place, so a failed save leaves no partial model.

use std::fs;
use std::path::{Path, PathBuf};

use nstudent_data::{Dataset, ImagesRef};
use nstudent_engine::{Classifier, Engine, ModelSpec};
use nstudent_stats::metrics::argmax;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// File that marks a directory as a saved ensemble.
pub const ENSEMBLE_MANIFEST: &str = "ensemble.json";
const ENSEMBLE_FORMAT: &str = "nstudent-ensemble";

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    members: Vec<String>,
}

/// One classifier or an ensemble of classifiers with the same classes and input.
pub struct Model {
    members: Vec<Box<dyn Classifier>>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("members", &self.members.len())
            .field("spec", self.spec())
            .finish()
    }
}

impl Model {
    /// A model of one classifier.
    pub fn single(classifier: Box<dyn Classifier>) -> Self {
        Self {
            members: vec![classifier],
        }
    }

    /// An ensemble; members must agree on input shape and number of classes.
    pub fn ensemble(members: Vec<Box<dyn Classifier>>) -> Result<Self> {
        let Some(first) = members.first() else {
            return Err(Error::Invalid(
                "an ensemble needs at least one member".into(),
            ));
        };
        let (input, classes) = (first.spec().input, first.spec().num_classes);
        if let Some(bad) = members
            .iter()
            .find(|m| m.spec().input != input || m.spec().num_classes != classes)
        {
            return Err(Error::Invalid(format!(
                "ensemble members disagree: {input} images and {classes} classes vs {} and {}",
                bad.spec().input,
                bad.spec().num_classes
            )));
        }
        Ok(Self { members })
    }

    pub fn members(&self) -> &[Box<dyn Classifier>] {
        &self.members
    }

    pub fn into_members(self) -> Vec<Box<dyn Classifier>> {
        self.members
    }

    /// Number of classifiers (1 for a single model).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false: a model has at least one member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The first member's spec (all members share input and classes).
    pub fn spec(&self) -> &ModelSpec {
        self.members[0].spec()
    }

    /// Attaches class names to every member (saved with the model).
    pub fn set_class_names(&mut self, names: &[String]) {
        for m in &mut self.members {
            m.set_class_names(names.to_vec());
        }
    }

    /// The class names saved with the model; may be empty.
    pub fn class_names(&self) -> &[String] {
        self.members[0].class_names()
    }

    pub fn num_classes(&self) -> usize {
        self.spec().num_classes
    }

    /// The threads every member's predictions run on from now on.
    pub fn set_threads(&mut self, threads: nstudent_engine::Threads) {
        for m in &mut self.members {
            m.set_threads(threads);
        }
    }

    /// Mean of the members' eval-mode probabilities: `images.len() * num_classes()` values.
    pub fn predict_proba(&self, images: ImagesRef<'_>) -> Result<Vec<f32>> {
        self.mean_proba(images, |m| m.predict_proba(images))
    }

    /// [`Model::predict_proba`] on `threads` threads, whatever [`Model::set_threads`] said
    /// (for a shared model whose caller brings its own budget); the same values.
    pub fn predict_proba_on(
        &self,
        images: ImagesRef<'_>,
        threads: nstudent_engine::Threads,
    ) -> Result<Vec<f32>> {
        self.mean_proba(images, |m| m.predict_proba_on(images, threads))
    }

    /// The mean over the members of `proba(member)`, in member order.
    fn mean_proba(
        &self,
        images: ImagesRef<'_>,
        proba: impl Fn(&dyn Classifier) -> nstudent_engine::Result<Vec<f32>>,
    ) -> Result<Vec<f32>> {
        if images.shape != self.spec().input {
            return Err(Error::Invalid(format!(
                "the model takes {} images, the data has {}",
                self.spec().input,
                images.shape
            )));
        }
        let mut sum = proba(self.members[0].as_ref())?;
        for m in &self.members[1..] {
            for (s, p) in sum.iter_mut().zip(proba(m.as_ref())?) {
                *s += p;
            }
        }
        if self.members.len() > 1 {
            let n = self.members.len() as f32;
            sum.iter_mut().for_each(|s| *s /= n);
        }
        Ok(sum)
    }

    /// Refuses a model whose probabilities on `train` (its training images) are not finite:
    /// a diverged training can leave finite weights whose logits overflow float32, a model
    /// that prediction would then refuse. Costs one forward pass over `train`; the error names
    /// `learning_rate`, the setting to lower.
    pub fn check_finite_outputs(&self, train: ImagesRef<'_>, learning_rate: f64) -> Result<()> {
        let probs = self.predict_proba(train)?;
        let k = self.num_classes().max(1);
        match probs.iter().position(|p| !p.is_finite()) {
            Some(i) => Err(Error::Diverged {
                image: i / k,
                learning_rate,
            }),
            None => Ok(()),
        }
    }

    /// Fraction of `data` whose argmax prediction equals its label.
    pub fn accuracy(&self, data: &Dataset) -> Result<f64> {
        if data.num_classes() != self.num_classes() {
            return Err(Error::Invalid(format!(
                "{}: {} classes, the model has {}",
                data.source,
                data.num_classes(),
                self.num_classes()
            )));
        }
        let probs = self.predict_proba(data.view())?;
        Ok(accuracy(&probs, &data.labels, self.num_classes()))
    }

    /// Saves a single model as one safetensors file at `path`, an ensemble as a directory at
    /// `path` (see the module docs). An existing ensemble directory at `path` is replaced; any
    /// other existing directory is refused.
    pub fn save(&self, path: &Path) -> Result<()> {
        if self.members.len() == 1 {
            if path.is_dir() {
                return Err(Error::Invalid(format!(
                    "{} is a directory; a single model saves to a file",
                    path.display()
                )));
            }
            return Ok(self.members[0].save(path)?);
        }
        if path.exists() && !path.join(ENSEMBLE_MANIFEST).is_file() {
            return Err(Error::Invalid(format!(
                "{} exists and is not a saved ensemble; choose a new path for the ensemble \
                 directory",
                path.display()
            )));
        }
        let tmp = sibling(path, ".tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        // Written whole beside it, then swapped in: a crash leaves the old ensemble or the
        // new one, never a mix or neither.
        let result = self.save_members(&tmp).and_then(|()| {
            nstudent_core::fs::replace_dir(&tmp, path).map_err(|e| Error::io(path, e))
        });
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result
    }

    fn save_members(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let names: Vec<String> = (1..=self.members.len())
            .map(|i| format!("member-{i}.safetensors"))
            .collect();
        for (m, name) in self.members.iter().zip(&names) {
            m.save(&dir.join(name))?;
        }
        let manifest = Manifest {
            format: ENSEMBLE_FORMAT.into(),
            version: 1,
            members: names,
        };
        let text = serde_json::to_string_pretty(&manifest)
            .map_err(|e| Error::Internal(format!("ensemble manifest: {e}")))?;
        let file = dir.join(ENSEMBLE_MANIFEST);
        fs::write(&file, text).map_err(|e| Error::io(&file, e))
    }

    /// Loads what [`Model::save`] wrote: a model file, or an ensemble directory.
    pub fn load(engine: &dyn Engine, path: &Path) -> Result<Self> {
        if !path.is_dir() {
            if !path.exists() {
                return Err(Error::io(
                    path,
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such model file"),
                ));
            }
            return Ok(Self::single(engine.load(path)?));
        }
        let file = path.join(ENSEMBLE_MANIFEST);
        let text = fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| Error::Format {
            path: file.clone(),
            message: format!("not an nstudent ensemble manifest: {e}"),
        })?;
        if manifest.format != ENSEMBLE_FORMAT || manifest.version != 1 {
            return Err(Error::Format {
                path: file,
                message: format!(
                    "format {} version {} is not {ENSEMBLE_FORMAT} version 1",
                    manifest.format, manifest.version
                ),
            });
        }
        if manifest.members.len() > crate::config::MAX_ENSEMBLE_SIZE {
            return Err(Error::Format {
                path: file,
                message: format!(
                    "lists {} members, more than an ensemble may have ({})",
                    manifest.members.len(),
                    crate::config::MAX_ENSEMBLE_SIZE
                ),
            });
        }
        let mut members = Vec::with_capacity(manifest.members.len());
        for (i, name) in manifest.members.iter().enumerate() {
            if name.contains('/') || name.contains('\\') || name.starts_with('.') {
                return Err(Error::Format {
                    path: file,
                    message: format!("member name {name:?} must be a plain file name"),
                });
            }
            if manifest.members[..i].contains(name) {
                return Err(Error::Format {
                    path: file,
                    message: format!(
                        "lists the member {name:?} twice; each member is a model of its own"
                    ),
                });
            }
            members.push(engine.load(&path.join(name))?);
        }
        Self::ensemble(members).map_err(|e| Error::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}

/// Fraction of rows of `probs` (row-major, `num_classes` per row) whose argmax equals `labels`.
pub fn accuracy(probs: &[f32], labels: &[u16], num_classes: usize) -> f64 {
    if labels.is_empty() || num_classes == 0 {
        return 0.0;
    }
    let correct = probs
        .chunks_exact(num_classes)
        .zip(labels)
        .filter(|(p, &l)| argmax(p) == usize::from(l))
        .count();
    correct as f64 / labels.len() as f64
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}
