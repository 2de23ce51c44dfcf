/*
 * Post-training quantization of a converter IR graph (convert/ir/ir.h).
 *
 * Three modes, as TensorFlow Lite's converter offers them:
 *  - float16: float32 weight constants become float16 constants, each
 *    followed by a DEQUANTIZE op that yields the float32 tensor the
 *    consumers read (TF's target_spec.supported_types = [tf.float16]);
 *  - dynamic range (TF's Optimize.DEFAULT without a dataset): large
 *    weights of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED become
 *    symmetric int8 (per channel for DEPTHWISE_CONV_2D, per tensor
 *    otherwise, as TF writes them), activations stay float32 and the
 *    runtime's hybrid kernels quantize them on the fly;
 *  - full integer int8 (TFLite int8 spec): per-channel symmetric weights,
 *    per-tensor asymmetric activations from calibrated ranges, int32
 *    biases.  Needs tml_calibrate() first.
 *
 * Every function returns 0, or -1 with one line in err (size n).  The
 * graph is rewritten in place; on failure it may be half rewritten, so
 * callers quantize a tml_ir_clone() when they need the original.
 */
#ifndef TML_QUANTIZE_H
#define TML_QUANTIZE_H

#include <stddef.h>

#include "convert/ir/ir.h"
#include "convert/quantize/dataset.h"

int tml_quantize_float16(tml_ir_graph *g, char *err, size_t n);
int tml_quantize_dynamic(tml_ir_graph *g, char *err, size_t n);

/* Runs the float graph through the tinyml runtime over the first
 * `samples` samples of d (all of them when samples <= 0 or larger than
 * the set) and records each activation's observed min/max (the MINMAX
 * method below; `tinyml convert` defaults to TML_CALIB_DEFAULT) in
 * tml_ir_tensor.has_range/min/max.  show_progress: draw a progress bar on
 * stderr when stderr is a terminal. */
int tml_calibrate(tml_ir_graph *g, const tml_dataset *d, int samples,
                  int show_progress, char *err, size_t n);

/* How calibration turns the observed values of an activation into its
 * int8 range.  Graph inputs and outputs always keep min/max.
 *  SEARCH (the default, TML_CALIB_DEFAULT): output-aware search within a
 *    fixed amount of work.  Greedy, in graph order, the min/max ranges of
 *    the activations whose range sets their int8 parameters are scaled by
 *    the fraction (1, 0.9 .. 0.2) that gives the least squared error of
 *    the int8 model's outputs against the float model's on up to 100 of
 *    the calibration samples (spread over the set), given the fractions
 *    chosen before.  The int8 model is simulated in float (dequantized
 *    int8 weights, every activation rounded onto its int8 grid), so a
 *    candidate costs one run of the scored samples and nothing else.
 *    A narrower range must lower the error by 1% (the simulation is not
 *    bit-exact).  When the runs would exceed the budget (calibrate.c:
 *    SEARCH_BUDGET, ~1 s of one core here), consecutive activations
 *    share one fraction (down to 4 groups), then fewer samples are
 *    scored (down to 12).  Last, the real int8 model with the searched
 *    ranges is compared with min/max's on the first 16 samples; if it
 *    is worse, min/max is kept.
 *  MINMAX: the observed min and max (TFLite's converter: reproduces
 *    TensorFlow's ranges).
 *  PERCENTILE: the central `percentile` % of the observed values (e.g.
 *    99.99), the rest split evenly between the two tails and clipped;
 *    runs the samples twice (a 2048-bin histogram over the first pass's
 *    range).
 *  SEARCH_FULL: SEARCH without budget, 1% rule or final check (the
 *    method before SEARCH): each activation on its own, on all
 *    calibration samples, each candidate a real int8 model
 *    (quantized, exported, run).  Costs ~9 int8 runs of the samples per
 *    activation. */
typedef enum tml_calib_method {
    TML_CALIB_MINMAX, TML_CALIB_PERCENTILE, TML_CALIB_SEARCH,
    TML_CALIB_SEARCH_FULL
} tml_calib_method;

#define TML_CALIB_DEFAULT TML_CALIB_SEARCH

/* SEARCH's plan for a model whose one run costs run_cost (multiply-
 * accumulates + activation values), with ntensors searched activations
 * and count calibration samples: *groups runs of consecutive activations
 * sharing a fraction (ntensors: one each; 0 when ntensors is 0) scored on
 * *samples samples. */
void tml_calib_search_plan(double run_cost, int32_t ntensors, int32_t count,
                           int32_t *groups, int32_t *samples);

/* The percentile `tinyml convert --calibration-method percentile` uses. */
#define TML_CALIB_PERCENTILE_DEFAULT 99.99

/* tml_calibrate() with a range method; percentile is read by
 * TML_CALIB_PERCENTILE only and must be in (50, 100]. */
int tml_calibrate_method(tml_ir_graph *g, const tml_dataset *d, int samples,
                         int show_progress, tml_calib_method method,
                         double percentile, char *err, size_t n);

/* Full-integer quantization of a calibrated float graph.  io_int8: the
 * graph inputs and outputs become int8 tensors; otherwise they stay
 * float32 with a QUANTIZE op after each input and a DEQUANTIZE op before
 * each output. */
int tml_quantize_int8(tml_ir_graph *g, int io_int8, char *err, size_t n);

/* TF's weights_min_num_elements: dynamic range leaves smaller weight
 * tensors in float (quantizing them saves little and costs accuracy). */
#define TML_DYNAMIC_MIN_ELEMENTS 1024

#endif
