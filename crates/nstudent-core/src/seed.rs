//! The one bit mixer behind every derived seed.
//!
//! Three derivations build on it, each kept as it is because their outputs are the seeds of
//! every published result (changing one would change the results' bits): the study's
//! `nstudent_experiment::seed::derive` (a seed and names: task, fold, algorithm),
//! `nstudent_algo`'s `mix` (a seed and two numbers: member, iteration) and the native engine's
//! per-purpose generators (a seed, a purpose, an epoch and a batch).

/// SplitMix64's output function applied to `z` advanced by the golden-ratio increment: a
/// bijection of `u64` whose outputs pass BigCrush (Steele, Lea and Flood 2014).
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    #[test]
    fn it_is_splitmix64() {
        // The first output of SplitMix64 seeded with 0 (Vigna's reference implementation).
        assert_eq!(super::splitmix64(0), 0xe220_a839_7b1d_cdaf);
    }
}
