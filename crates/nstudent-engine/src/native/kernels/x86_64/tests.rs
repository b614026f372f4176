//! The x86-64 kernels against the portable ones: the same bits where the float operations
//! are the same (pooling, the portable loops compiled wide), agreement to rounding where the
//! order differs (the convolutions). Each test says so when it skips for want of AVX-512, and
//! fails instead under `CI=true`.

mod direct {
    use super::super::super::types::{ConvShape, MatRef};
    use super::super::super::{avx512_for_test, Kernels, Plain};
    use super::super::direct::*;

    /// The direct convolution against im2col + the portable GEMM, forward and backward, for
    /// every supported input width and both output widths, with and without ReLU.
    #[test]
    fn direct_convolution_matches_im2col() {
        let Some(cpu) = avx512_for_test("the direct convolution") else {
            return;
        };
        for (cin, cout) in [(1, 32), (3, 32), (2, 8), (4, 8)] {
            for relu in [false, true] {
                let s = ConvShape {
                    n: 3,
                    h: 7,
                    w: 5,
                    cin,
                    cout,
                    k: 3,
                };
                let val = |i: usize, f: f32| ((i as f32 * f).sin() * 1.3).clamp(-1.0, 1.0);
                let x: Vec<f32> = (0..s.n * s.h * s.w * cin).map(|i| val(i, 0.37)).collect();
                let w: Vec<f32> = (0..9 * cin * cout).map(|i| val(i, 0.11) * 0.5).collect();
                let b: Vec<f32> = (0..cout).map(|i| val(i, 0.7) * 0.1).collect();
                let dy0: Vec<f32> = (0..s.rows() * cout).map(|i| val(i, 0.23)).collect();

                let mut col = vec![0.0; s.rows() * s.patch()];
                Plain.im2col3(&x, s, &mut col);
                let input = MatRef::rows(&col, s.patch());
                let mut y_ref = vec![0.0; s.rows() * cout];
                Plain.affine_forward(s.rows(), s.patch(), cout, input, &w, &b, relu, &mut y_ref);
                let (mut dy_ref, mut dw_ref, mut db_ref) =
                    (dy0.clone(), vec![0.0; w.len()], vec![0.0; cout]);
                Plain.affine_backward(
                    s.rows(),
                    s.patch(),
                    cout,
                    input,
                    &w,
                    &y_ref,
                    relu,
                    &mut dy_ref,
                    Some(&mut dw_ref),
                    &mut db_ref,
                    false,
                    None,
                );

                let mut y = vec![f32::NAN; s.rows() * cout];
                forward(cpu, &x, s, &w, &b, relu, &mut y);
                let (mut dy, mut dw, mut db) = (dy0.clone(), vec![9.0; w.len()], vec![9.0; cout]);
                backward(cpu, &x, s, &y, relu, &mut dy, &mut dw, &mut db, false);
                let close = |what: &str, got: &[f32], want: &[f32]| {
                    for (i, (g, w)) in got.iter().zip(want).enumerate() {
                        assert!(
                            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                            "cin {cin} cout {cout} relu {relu} {what}[{i}]: {g} vs {w}"
                        );
                    }
                };
                close("y", &y, &y_ref);
                close("dy", &dy, &dy_ref);
                close("dw", &dw, &dw_ref);
                close("db", &db, &db_ref);
                // Accumulating adds to what is there.
                let (mut dy2, mut dw2, mut db2) = (dy0.clone(), dw.clone(), db.clone());
                backward(cpu, &x, s, &y, relu, &mut dy2, &mut dw2, &mut db2, true);
                let twice: Vec<f32> = dw_ref.iter().map(|v| 2.0 * v).collect();
                close("dw accumulated", &dw2, &twice);
            }
        }
    }

    /// The pooled forward pass against the convolution then the pool (the same bits), and the
    /// pooled backward pass against the pool's backward pass followed by this layer's: the
    /// same weight and bias gradients, written and accumulated, with and without ReLU,
    /// for 1 and 3 input channels, with ties and negative maxima among the pooled values.
    #[test]
    fn pooled_passes_match_convolution_and_pool_in_turn() {
        let Some(cpu) = avx512_for_test("the pooled direct convolution") else {
            return;
        };
        for cin in [1, 3] {
            let s = ConvShape {
                n: 2,
                h: 6,
                w: 8,
                cin,
                cout: 32,
                k: 3,
            };
            assert!(supports_pooled(s));
            for relu in [false, true] {
                // Coarse values, so that windows hold ties.
                let val = |i: usize, f: f32| ((i as f32 * f).sin() * 4.0).round() / 4.0;
                let x: Vec<f32> = (0..s.n * s.h * s.w * cin).map(|i| val(i, 0.37)).collect();
                let w: Vec<f32> = (0..9 * cin * 32).map(|i| val(i, 0.11) * 0.5).collect();
                let b: Vec<f32> = (0..32).map(|i| val(i, 0.7) * 0.1).collect();
                let mut y = vec![0.0; s.rows() * 32];
                forward(cpu, &x, s, &w, &b, relu, &mut y);
                let cells = s.n * (s.h / 2) * (s.w / 2) * 32;
                let (mut pooled, mut arg) = (vec![0.0; cells], vec![0u8; cells]);
                Plain.maxpool_forward(&y, s.n, s.h, s.w, 32, &mut pooled, &mut arg);
                // The fused forward pass: the same bits.
                let (mut fused, mut fused_arg) = (vec![f32::NAN; cells], vec![9u8; cells]);
                forward_pooled(cpu, &x, s, &w, &b, relu, &mut fused, &mut fused_arg);
                assert_eq!(fused, pooled, "cin {cin} relu {relu}: pooled values");
                assert_eq!(fused_arg, arg, "cin {cin} relu {relu}: window positions");
                let dp: Vec<f32> = (0..cells).map(|i| val(i, 0.23) + 0.1).collect();

                let mut dy = vec![0.0; s.rows() * 32];
                Plain.maxpool_backward(&dp, &arg, s.n, s.h, s.w, 32, &mut dy, false);
                let (mut dw_ref, mut db_ref) = (vec![0.0; w.len()], vec![0.0; 32]);
                backward(
                    cpu,
                    &x,
                    s,
                    &y,
                    relu,
                    &mut dy,
                    &mut dw_ref,
                    &mut db_ref,
                    false,
                );

                let (mut dw, mut db) = (vec![9.0; w.len()], vec![9.0; 32]);
                backward_pooled(
                    cpu, &x, s, &pooled, &arg, &dp, relu, &mut dw, &mut db, false,
                );
                let close = |what: &str, got: &[f32], want: &[f32]| {
                    for (i, (g, w)) in got.iter().zip(want).enumerate() {
                        assert!(
                            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                            "cin {cin} relu {relu} {what}[{i}]: {g} vs {w}"
                        );
                    }
                };
                close("dw", &dw, &dw_ref);
                close("db", &db, &db_ref);
                backward_pooled(cpu, &x, s, &pooled, &arg, &dp, relu, &mut dw, &mut db, true);
                let twice = |v: &[f32]| v.iter().map(|a| 2.0 * a).collect::<Vec<_>>();
                close("dw accumulated", &dw, &twice(&dw_ref));
                close("db accumulated", &db, &twice(&db_ref));
                if relu {
                    // Some pooled maxima are 0 (masked) and some gradients reach the weights.
                    assert!(pooled.contains(&0.0) && pooled.iter().any(|&v| v > 0.0));
                }
            }
        }
    }
}

mod implicit {
    use super::super::super::types::{ConvShape, MatRef};
    use super::super::super::{avx512_for_test, Kernels, Plain};
    use super::super::implicit::*;

    /// The implicit convolution against im2col + the portable products, forward, weight and
    /// input gradients, written and accumulated, on shapes whose rows, columns and depth are
    /// not multiples of the tile.
    #[test]
    fn implicit_convolution_matches_im2col() {
        let Some(cpu) = avx512_for_test("the implicit convolution") else {
            return;
        };
        for (n, h, w, cin, cout) in [(3, 5, 7, 5, 20), (2, 4, 4, 32, 64), (1, 3, 9, 2, 8)] {
            let s = ConvShape {
                n,
                h,
                w,
                cin,
                cout,
                k: 3,
            };
            let val = |i: usize, f: f32| (i as f32 * f).sin();
            let x: Vec<f32> = (0..s.rows() * cin).map(|i| val(i, 0.37)).collect();
            let wt: Vec<f32> = (0..9 * cin * cout).map(|i| val(i, 0.11) * 0.3).collect();
            let b: Vec<f32> = (0..cout).map(|i| val(i, 0.7) * 0.1).collect();
            let dy: Vec<f32> = (0..s.rows() * cout).map(|i| val(i, 0.23)).collect();

            let mut col = vec![0.0; s.rows() * s.patch()];
            Plain.im2col3(&x, s, &mut col);
            let input = MatRef::rows(&col, s.patch());
            let mut y_ref = vec![0.0; s.rows() * cout];
            Plain.affine_forward(s.rows(), s.patch(), cout, input, &wt, &b, true, &mut y_ref);
            let (mut dy_ref, mut dw_ref, mut db_ref) =
                (dy.clone(), vec![0.0; wt.len()], vec![0.0; cout]);
            let mut dcol = vec![0.0; col.len()];
            Plain.affine_backward(
                s.rows(),
                s.patch(),
                cout,
                input,
                &wt,
                &y_ref,
                false,
                &mut dy_ref,
                Some(&mut dw_ref),
                &mut db_ref,
                false,
                Some((&mut dcol, false)),
            );
            let mut dx_ref = vec![0.0; x.len()];
            Plain.col2im3(&dcol, s, &mut dx_ref, false);

            let close = |what: &str, got: &[f32], want: &[f32]| {
                for (i, (g, w)) in got.iter().zip(want).enumerate() {
                    assert!(
                        (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                        "{n}x{h}x{w}x{cin}->{cout} {what}[{i}]: {g} vs {w}"
                    );
                }
            };
            let mut y = vec![f32::NAN; s.rows() * cout];
            forward(cpu, &x, s, &wt, &b, true, &mut y);
            close("y", &y, &y_ref);
            let (mut dw, mut dx) = (vec![f32::NAN; wt.len()], vec![f32::NAN; x.len()]);
            backward(cpu, &x, s, &wt, &dy, &mut dw, false, Some((&mut dx, false)));
            close("dw", &dw, &dw_ref);
            close("dx", &dx, &dx_ref);
            // Accumulating adds the same again.
            backward(cpu, &x, s, &wt, &dy, &mut dw, true, Some((&mut dx, true)));
            let twice = |v: &[f32]| v.iter().map(|a| 2.0 * a).collect::<Vec<_>>();
            close("dw accumulated", &dw, &twice(&dw_ref));
            close("dx accumulated", &dx, &twice(&dx_ref));
        }
    }
}

mod winograd {
    use super::super::super::types::{ConvShape, MatRef};
    use super::super::super::{avx512_for_test, Kernels, Plain};
    use super::super::winograd::*;

    /// The Winograd convolution against im2col and the portable products: forward, weight and
    /// input gradients, written and accumulated, on shapes with one tile, edge tiles only, a
    /// partial last block, and more channels than a register.
    #[test]
    fn winograd_convolution_matches_im2col() {
        let Some(cpu) = avx512_for_test("the Winograd convolution") else {
            return;
        };
        for (n, h, w, cin, cout) in [
            (1, 2, 2, 16, 16),
            (3, 4, 6, 16, 48),
            (2, 14, 14, 32, 64),
            (1, 16, 10, 64, 32),
        ] {
            let s = ConvShape {
                n,
                h,
                w,
                cin,
                cout,
                k: 3,
            };
            assert!(supports(s));
            let val = |i: usize, f: f32| (i as f32 * f).sin();
            let x: Vec<f32> = (0..s.rows() * cin).map(|i| val(i, 0.37)).collect();
            let wt: Vec<f32> = (0..9 * cin * cout).map(|i| val(i, 0.11) * 0.3).collect();
            let bias: Vec<f32> = (0..cout).map(|i| val(i, 0.7) * 0.1).collect();
            let dy: Vec<f32> = (0..s.rows() * cout).map(|i| val(i, 0.23)).collect();

            let mut col = vec![0.0; s.rows() * s.patch()];
            Plain.im2col3(&x, s, &mut col);
            let input = MatRef::rows(&col, s.patch());
            let mut y_ref = vec![0.0; s.rows() * cout];
            Plain.affine_forward(
                s.rows(),
                s.patch(),
                cout,
                input,
                &wt,
                &bias,
                true,
                &mut y_ref,
            );
            let (mut dy_ref, mut dw_ref, mut db_ref) =
                (dy.clone(), vec![0.0; wt.len()], vec![0.0; cout]);
            let mut dcol = vec![0.0; col.len()];
            Plain.affine_backward(
                s.rows(),
                s.patch(),
                cout,
                input,
                &wt,
                &y_ref,
                false,
                &mut dy_ref,
                Some(&mut dw_ref),
                &mut db_ref,
                false,
                Some((&mut dcol, false)),
            );
            let mut dx_ref = vec![0.0; x.len()];
            Plain.col2im3(&dcol, s, &mut dx_ref, false);

            let close = |what: &str, got: &[f32], want: &[f32]| {
                for (i, (g, w)) in got.iter().zip(want).enumerate() {
                    assert!(
                        (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                        "{n}x{h}x{w}x{cin}->{cout} {what}[{i}]: {g} vs {w}"
                    );
                }
            };
            let mut y = vec![f32::NAN; s.rows() * cout];
            forward(cpu, &x, s, &wt, &bias, true, &mut y);
            close("y", &y, &y_ref);
            let (mut dw, mut dx) = (vec![f32::NAN; wt.len()], vec![f32::NAN; x.len()]);
            backward(cpu, &x, s, &wt, &dy, &mut dw, false, Some((&mut dx, false)));
            close("dw", &dw, &dw_ref);
            close("dx", &dx, &dx_ref);
            // Accumulating adds the same again.
            backward(cpu, &x, s, &wt, &dy, &mut dw, true, Some((&mut dx, true)));
            let twice = |v: &[f32]| v.iter().map(|a| 2.0 * a).collect::<Vec<_>>();
            close("dw accumulated", &dw, &twice(&dw_ref));
            close("dx accumulated", &dx, &twice(&dx_ref));
            // Without an input gradient, the weight gradient is the same bits.
            let mut dw_only = vec![f32::NAN; wt.len()];
            backward(cpu, &x, s, &wt, &dy, &mut dw_only, false, None);
            let mut dw_again = vec![f32::NAN; wt.len()];
            backward(
                cpu,
                &x,
                s,
                &wt,
                &dy,
                &mut dw_again,
                false,
                Some((&mut dx, false)),
            );
            assert_eq!(dw_only, dw_again);
        }
        // No images: the weight gradient is zero (written) or unchanged (accumulated).
        let s = ConvShape {
            n: 0,
            h: 4,
            w: 4,
            cin: 16,
            cout: 16,
            k: 3,
        };
        let wt = vec![0.5; 9 * 16 * 16];
        let mut dw = vec![f32::NAN; wt.len()];
        backward(cpu, &[], s, &wt, &[], &mut dw, false, None);
        assert!(dw.iter().all(|&v| v == 0.0));
        dw.fill(1.5);
        backward(cpu, &[], s, &wt, &[], &mut dw, true, Some((&mut [], false)));
        assert!(dw.iter().all(|&v| v == 1.5));
    }

    /// Odd sizes, a 1x1 kernel and channel counts off the register width are refused.
    #[test]
    fn unsupported_shapes_are_refused() {
        let s = |h, w, cin, cout, k| ConvShape {
            n: 1,
            h,
            w,
            cin,
            cout,
            k,
        };
        assert!(supports(s(14, 14, 32, 64, 3)));
        assert!(!supports(s(7, 14, 32, 64, 3)));
        assert!(!supports(s(14, 14, 32, 64, 1)));
        assert!(!supports(s(14, 14, 8, 64, 3)));
        assert!(!supports(s(14, 14, 32, 24, 3)));
    }
}

mod pool {
    use super::super::super::{avx512_for_test, Kernels, Plain};
    use super::super::Wide;

    /// The AVX-512 pooling gives the portable loops' bits, ties included (the first maximum of
    /// a window wins), forward and backward, written and accumulated.
    #[test]
    fn vector_pooling_gives_the_portable_bits() {
        let Some(cpu) = avx512_for_test("the AVX-512 max-pool") else {
            return;
        };
        let wide = Wide::new(cpu);
        let (n, h, w, c) = (2, 6, 4, 32);
        // Few distinct values: many ties inside windows.
        let x: Vec<f32> = (0..n * h * w * c)
            .map(|i| ((i * 7919) % 5) as f32 - 2.0)
            .collect();
        let out = n * (h / 2) * (w / 2) * c;
        let (mut y1, mut a1) = (vec![0.0; out], vec![9u8; out]);
        let (mut y2, mut a2) = (vec![0.0; out], vec![9u8; out]);
        wide.maxpool_forward(&x, n, h, w, c, &mut y1, &mut a1);
        Plain.maxpool_forward(&x, n, h, w, c, &mut y2, &mut a2);
        assert_eq!(a1, a2);
        assert!(y1.iter().zip(&y2).all(|(a, b)| a.to_bits() == b.to_bits()));
        let dy: Vec<f32> = (0..out).map(|i| (i as f32 * 0.37).sin()).collect();
        for accumulate in [false, true] {
            let start: Vec<f32> = (0..x.len()).map(|i| (i as f32 * 0.11).cos()).collect();
            let (mut d1, mut d2) = (start.clone(), start);
            wide.maxpool_backward(&dy, &a1, n, h, w, c, &mut d1, accumulate);
            Plain.maxpool_backward(&dy, &a1, n, h, w, c, &mut d2, accumulate);
            assert!(
                d1.iter().zip(&d2).all(|(a, b)| a.to_bits() == b.to_bits()),
                "backward, accumulate {accumulate}"
            );
        }
    }
}
