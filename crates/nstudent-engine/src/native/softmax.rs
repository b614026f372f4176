//! Softmax and its cross-entropy: the loss the engine trains on, the same loops on every
//! kernel set (a few values per image, nothing to vectorize across).

/// Targets of one batch, aligned with the batch's images.
#[derive(Clone, Copy)]
pub(crate) enum BatchTargets<'a> {
    Hard(&'a [u16]),
    Soft(&'a [f32]),
}

/// Softmax cross-entropy over `n` rows of `k` logits: writes probabilities into `probs`, the
/// gradient `(p - t) * scale` into `dlogits`, and returns the summed (not averaged) loss.
pub(crate) fn softmax_xent(
    logits: &[f32],
    n: usize,
    k: usize,
    targets: BatchTargets<'_>,
    scale: f32,
    probs: &mut [f32],
    dlogits: &mut [f32],
) -> f64 {
    softmax(logits, n, k, probs);
    let mut loss = 0.0f64;
    for i in 0..n {
        let p = &probs[i * k..(i + 1) * k];
        let lg = &logits[i * k..(i + 1) * k];
        let g = &mut dlogits[i * k..(i + 1) * k];
        let max = lg.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse = max + lg.iter().map(|&v| (v - max).exp()).sum::<f32>().ln();
        match targets {
            BatchTargets::Hard(labels) => {
                let t = usize::from(labels[i]);
                loss += f64::from(lse - lg[t]);
                for (j, (gj, &pj)) in g.iter_mut().zip(p).enumerate() {
                    *gj = (pj - if j == t { 1.0 } else { 0.0 }) * scale;
                }
            }
            BatchTargets::Soft(t) => {
                let t = &t[i * k..(i + 1) * k];
                for j in 0..k {
                    if t[j] != 0.0 {
                        loss += f64::from(t[j] * (lse - lg[j]));
                    }
                    g[j] = (p[j] - t[j]) * scale;
                }
            }
        }
    }
    loss
}

/// Row-wise softmax of `n` rows of `k` logits.
pub(crate) fn softmax(logits: &[f32], n: usize, k: usize, probs: &mut [f32]) {
    for i in 0..n {
        let lg = &logits[i * k..(i + 1) * k];
        let p = &mut probs[i * k..(i + 1) * k];
        let max = lg.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f32;
        for (pj, &l) in p.iter_mut().zip(lg) {
            *pj = (l - max).exp();
            sum += *pj;
        }
        let inv = 1.0 / sum;
        for pj in p.iter_mut() {
            *pj *= inv;
        }
    }
}
