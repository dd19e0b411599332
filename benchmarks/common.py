"""What the benchmarks share: timing, compiling a loop per backend, and the result header."""

import statistics
import time


def median_seconds(fn, steps, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compiled(keras, fn):
    """`fn` compiled the way each backend compiles a decoding loop (torch runs it eagerly,
    without autograd: torch.compile of the whole loop takes minutes on a CPU, and an eager loop
    under autograd keeps every step's activations alive)."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    import torch

    return torch.no_grad()(fn)


def peak_memory(backend):
    """The run's peak memory as JSON fields: MiB and what was measured (device or process)."""
    megabytes, kind = backend.peak_memory_mb()
    return {"peak_memory_mb": round(megabytes), "memory_kind": kind}


def header(name, args, keras, backend):
    """The first fields of every benchmark's JSON line: what ran, where, with which flags."""
    return {"benchmark": name, "backend": args.backend, "keras": keras.__version__,
            "devices": backend.devices(args.backend),
            "config": {k: v for k, v in vars(args).items() if k not in ("backend", "json")}}
