//! Input validation shared by every engine, so that the same bad input gives the same
//! [`Error::Invalid`] whichever engine runs it.

use nstudent_core::ImagesRef;

use crate::{Error, FitOptions, ModelSpec, Result, Targets};

/// Images must have the model's input shape and be whole images.
pub(crate) fn images(spec: &ModelSpec, images: &ImagesRef<'_>) -> Result<()> {
    if images.shape != spec.input {
        return Err(Error::Invalid(format!(
            "images are {} but the model takes {}",
            images.shape, spec.input
        )));
    }
    if images.len() * images.shape.len() != images.pixels.len() {
        return Err(Error::Invalid(format!(
            "{} bytes are not a whole number of {} images",
            images.pixels.len(),
            images.shape
        )));
    }
    Ok(())
}

/// One target per image: labels in range, or probability rows of the model's class count.
pub(crate) fn targets(spec: &ModelSpec, targets: &Targets<'_>, n: usize) -> Result<()> {
    let k = spec.num_classes;
    match *targets {
        Targets::Hard(labels) => {
            if labels.len() != n {
                return Err(Error::Invalid(format!(
                    "{} labels for {n} images",
                    labels.len()
                )));
            }
            if let Some(&bad) = labels.iter().find(|&&l| usize::from(l) >= k) {
                return Err(Error::Invalid(format!(
                    "label {bad} is out of range for a model of {k} classes"
                )));
            }
        }
        Targets::Soft { probs, classes } => {
            if classes != k {
                return Err(Error::Invalid(format!(
                    "soft targets have {classes} classes but the model has {k}"
                )));
            }
            if probs.len() != n * k {
                return Err(Error::Invalid(format!(
                    "{} soft-target values for {n} images of {k} classes (need {})",
                    probs.len(),
                    n * k
                )));
            }
            for (i, row) in probs.chunks_exact(k).enumerate() {
                let sum: f32 = row.iter().sum();
                if row.iter().any(|&p| !p.is_finite() || p < 0.0) || (sum - 1.0).abs() > 1e-3 {
                    return Err(Error::Invalid(format!(
                        "soft target row {i} is not a probability vector (sum {sum})"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Batch size and learning rate a training can run with.
pub(crate) fn fit_options(options: &FitOptions) -> Result<()> {
    if options.batch_size == 0 {
        return Err(Error::Invalid("batch size must be at least 1".into()));
    }
    if !(options.learning_rate.is_finite() && options.learning_rate > 0.0) {
        return Err(Error::Invalid(format!(
            "learning rate must be a positive number, got {}",
            options.learning_rate
        )));
    }
    Ok(())
}
