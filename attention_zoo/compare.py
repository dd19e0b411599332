"""The same models on TensorFlow, JAX and PyTorch, measured in one run.

    attention-zoo compare                       # every installed backend, every workload
    attention-zoo compare --backends jax torch --workloads layers classifier --steps 10
    attention-zoo compare --backends torch --jit-compile --models   # compiled torch, no matrix
    python recipes/compare_backends.py --json

Each workload (a small fixed config of the attention layers, the seq2seq translator, the
classifier and the Transformer translator; dropout off) runs on every backend in its own process,
one after another, from the same initial weights file and the same inputs. Per backend it
reports the outputs' max abs difference from the other backends, forward latency and train-step
time (medians after warm-up), tokens/s, the first forward and train step (compile) times, peak
memory, and the loss after `--steps` identical SGD steps on one batch.

The portability matrix saves every model of `--models` (or of the runs a `--manifest` lists;
default: the shipped saved_models/manifest.json) on each backend, loads every copy on every backend and compares its predictions with the saving
backend's.

Writes compare.json, compare.md and compare.png into `--output-dir`; prints the markdown tables,
then one JSON line (only that with --json).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

from attention_zoo import backend, export, presets, saving

WORKLOADS = ("layers", "seq2seq", "classifier", "transformer")
VOCABULARY = 256
TOLERANCE = 1e-4  # max abs difference under which two backends' outputs count as the same
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED_MANIFEST = os.path.join(PACKAGE_ROOT, "saved_models", "manifest.json")


# --- what runs inside one backend's process -------------------------------------------------

def build_workload(name):
    """A small fixed-size model of workload `name`, dropout off so training is deterministic."""
    import keras

    from attention_zoo import layers, models

    if name == "seq2seq":
        return models.Seq2SeqTranslator(VOCABULARY, VOCABULARY, embed_dim=64, units=128,
                                        dropout=0.0)
    if name == "classifier":
        return models.AttentionClassifier(VOCABULARY, 2, embed_dim=64, num_heads=4,
                                          intermediate_dim=128, dropout=0.0)
    if name == "transformer":
        return models.TransformerTranslator(VOCABULARY, VOCABULARY, embed_dim=64, num_heads=4,
                                            intermediate_dim=128, num_blocks=2, dropout=0.0)
    class LayersModel(models.CompiledCall, keras.Model):
        """A functional model of the layers that, like the zoo's model classes, compiles its
        call whole with jit_compile=True on torch."""

    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = layers.TokenAndPositionEmbedding(VOCABULARY, 64)(tokens)
    x = layers.MultiHeadAttention(num_heads=4, key_dim=16)(x, x, use_causal_mask=True)
    x = layers.AdditiveAttention(units=64)(x, x)
    return LayersModel(tokens, keras.layers.Dense(VOCABULARY)(x), name="attention_layers")


def workload_batch(model, batch_size, length, seed=0):
    """Padded token ids for every input of `model` (row 0 full, the others shorter) and targets:
    one class per row for the classifier, one token per position otherwise."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(max(1, length // 2), length + 1, batch_size)
    lengths[0] = length
    inputs = []
    for _ in model.inputs:
        tokens = rng.integers(1, VOCABULARY, (batch_size, length)).astype("int32")
        tokens[np.arange(length) >= lengths[:, None]] = 0
        inputs.append(tokens)
    classes = model.output.shape[-1] if len(model.output.shape) == 2 else None
    targets = (rng.integers(0, classes, batch_size) if classes else
               rng.integers(1, VOCABULARY, (batch_size, length))).astype("int32")
    return (inputs if len(inputs) > 1 else inputs[0]), targets, int(lengths.sum()) * len(inputs)


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def measure_workload(name, weights_path, outputs_path, steps, batch_size, length,
                     jit_compile="auto"):
    """Runs workload `name` on this process's backend; returns its measurements. `jit_compile`
    goes to `model.compile` ("auto": XLA on TensorFlow and JAX, eager torch; True on torch:
    each model's call exported and compiled whole, `models.TorchGraph`)."""
    import keras

    keras.utils.set_random_seed(0)
    model = build_workload(name)
    if os.path.exists(weights_path):
        model.load_weights(weights_path)
    else:  # the first backend to run writes the weights every other backend starts from
        with saving.replacing(weights_path, suffix=".weights.h5") as temporary:
            model.save_weights(temporary)
    inputs, targets, tokens = workload_batch(model, batch_size, length)
    model.compile(optimizer=keras.optimizers.SGD(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit_compile)
    first_forward, outputs = _timed(lambda: model.predict_on_batch(inputs))
    forward = [_timed(lambda: model.predict_on_batch(inputs))[0] for _ in range(steps)]
    np.save(outputs_path, np.asarray(outputs))
    train = [_timed(lambda: model.train_on_batch(inputs, targets)) for _ in range(steps)]
    step_seconds = statistics.median(seconds for seconds, _ in train[1:])
    memory, memory_kind = backend.peak_memory_mb()
    return {"forward_ms": 1000 * statistics.median(forward),
            "train_step_ms": 1000 * step_seconds,
            "tokens_per_second": tokens / step_seconds,
            "first_forward_s": first_forward, "first_train_step_s": train[0][0],
            "peak_memory_mb": memory, "memory_kind": memory_kind,
            "losses": [float(loss) for _, loss in train],
            "parameters": model.count_params()}


def _predict(model):
    """The model's outputs, flattened, for a small batch of token ids."""
    outputs = model.predict_on_batch(export.sample_inputs(model))
    return np.concatenate([np.ravel(output) for output in outputs]) if isinstance(
        outputs, (list, tuple)) else np.asarray(outputs)


def save_copies(model_paths, folder):
    """Saves each model on this backend as folder/<name>/<backend>.keras with its predictions."""
    import keras

    for name, path in model_paths.items():
        model = saving.load_model(path)
        target = os.path.join(folder, name, keras.backend.backend())
        saving.save_model(model, target + ".keras")
        np.save(target + ".npy", _predict(model))
    return {}


def load_copies(model_paths, folder, backends):
    """For each model and each backend that saved it: max abs difference between this
    backend's predictions from that copy and the saving backend's (None: it did not load)."""
    differences = {}
    for name in model_paths:
        for source in backends:
            copy = os.path.join(folder, name, source)
            try:
                predictions = _predict(saving.load_model(copy + ".keras"))
                difference = float(np.max(np.abs(predictions - np.load(copy + ".npy"))))
            except Exception as error:  # a failed load is a result of the matrix, not a crash
                print(f"{name} saved on {source}: {error}", file=sys.stderr)
                difference = None
            differences.setdefault(name, {})[source] = difference
    return differences


def worker(task):
    """Runs one `task` (a dict from `run_in_process`) on the backend of KERAS_BACKEND."""
    import keras

    if task["kind"] == "workload":
        result = measure_workload(**task["arguments"])
    elif task["kind"] == "save":
        result = save_copies(**task["arguments"])
    else:
        result = load_copies(**task["arguments"])
    name = keras.backend.backend()
    return {"backend": name, "version": backend.version(name), "keras": keras.__version__,
            "devices": backend.devices(name), "result": result}


# --- the parent process: one child per backend and task ---------------------------------------

def run_in_process(backend_name, kind, **arguments):
    """Runs `worker` in a fresh Python process on `backend_name`; returns its JSON result."""
    environment = dict(os.environ, KERAS_BACKEND=backend_name, TF_CPP_MIN_LOG_LEVEL="2",
                       PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_ROOT,
                                                                os.environ.get("PYTHONPATH")])))
    task = json.dumps({"kind": kind, "arguments": arguments})
    completed = subprocess.run([sys.executable, "-m", "attention_zoo.compare", "--worker", task],
                               env=environment, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} on {backend_name} failed (exit {completed.returncode}):\n"
                           f"{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def max_differences(outputs):
    """{backend: {other: max abs difference}} of arrays keyed by backend."""
    return {a: {b: float(np.max(np.abs(outputs[a] - outputs[b]))) for b in outputs if b != a}
            for a in outputs}


def compare_workload(name, backends, folder, settings, log=print):
    """Runs workload `name` on each backend from one weights file; its results per backend.
    `settings`: the steps, batch_size, length and jit_compile of `measure_workload`."""
    weights = os.path.join(folder, f"{name}.weights.h5")
    if os.path.exists(weights):
        os.remove(weights)  # a stale file from another version would be loaded as is
    results, outputs = {}, {}
    for backend_name in backends:
        log(f"  {name} on {backend_name} ...")
        path = os.path.join(folder, f"{name}-{backend_name}.npy")
        report = run_in_process(backend_name, "workload", name=name, weights_path=weights,
                                outputs_path=path, **settings)
        results[backend_name] = dict(report["result"], version=report["version"],
                                     devices=report["devices"])
        outputs[backend_name] = np.load(path)
    for backend_name, differences in max_differences(outputs).items():
        results[backend_name]["max_abs_difference"] = differences
    return results


def portability(model_paths, backends, folder, log=print):
    """{model: {saved_on: {loaded_on: max abs difference or None}}} for every pair of backends."""
    for backend_name in backends:
        log(f"  saving {len(model_paths)} models on {backend_name} ...")
        run_in_process(backend_name, "save", model_paths=model_paths, folder=folder)
    matrix = {name: {source: {} for source in backends} for name in model_paths}
    for backend_name in backends:
        log(f"  loading every copy on {backend_name} ...")
        report = run_in_process(backend_name, "load", model_paths=model_paths, folder=folder,
                                backends=backends)
        for name, by_source in report["result"].items():
            for source, difference in by_source.items():
                matrix[name][source][backend_name] = difference
    return matrix


def model_name(path):
    """saved_models/NAME (a preset folder) -> NAME; FILE.keras -> FILE."""
    return os.path.splitext(os.path.basename(os.path.normpath(path)))[0]


def model_paths(paths=None, manifest=SHIPPED_MANIFEST):
    """{name: absolute path} of the models for the portability matrix: `paths` (.keras files
    or preset folders) when given, else every run listed in `manifest` (a
    manifest.json next to its run folders, as the recipes write). Says on stderr when there is
    no manifest to read."""
    if paths is None:
        if not os.path.isfile(manifest):
            print(f"no models for the portability matrix: {manifest} does not exist; pass "
                  f"--models FILE_OR_FOLDER... or --manifest FILE", file=sys.stderr)
            return {}
        folder = os.path.dirname(os.path.abspath(manifest))
        paths = [os.path.join(folder, name) for name in saving.read_json(manifest)]
    missing = [path for path in paths if not (os.path.isfile(path) or presets.is_preset(path))]
    if missing:
        raise ValueError(f"--models / --manifest must name existing .keras files or preset "
                         f"folders; received missing {missing}")
    return {model_name(path): os.path.abspath(path) for path in paths}


def machine():
    """The CPU, its core count and the OS, for the table's caption."""
    cpu = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as file:
            names = [line.split(":", 1)[1].strip() for line in file if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform(terse=True)}


# --- rendering ------------------------------------------------------------------------------

def _cell(difference):
    if difference is None:
        return "fails"
    return f"{'yes' if difference <= TOLERANCE else 'NO'} ({difference:.1e})"


def markdown(results):
    """The workload table and the portability matrix as markdown."""
    config, host = results["config"], results["machine"]
    lines = [f"Backends on {host['cpu']} ({host['cores']} cores), batch {config['batch_size']} x "
             f"{config['length']} tokens, {config['steps']} steps, jit_compile="
             f"{config['jit_compile']}:", "",
             "| workload | backend | max abs diff | forward ms | train step ms | tokens/s | "
             "first forward s | first train step s | peak memory MiB | loss after "
             f"{config['steps']} steps |", "|" + "---|" * 10]
    for workload, by_backend in results["workloads"].items():
        for name, entry in by_backend.items():
            difference = max(entry["max_abs_difference"].values(), default=0.0)
            lines.append(
                f"| {workload} | {name} {entry['version']} | {difference:.1e} | "
                f"{entry['forward_ms']:.1f} | {entry['train_step_ms']:.1f} | "
                f"{entry['tokens_per_second']:,.0f} | {entry['first_forward_s']:.2f} | "
                f"{entry['first_train_step_s']:.2f} | {entry['peak_memory_mb']:,.0f} "
                f"({entry['memory_kind']}) | {entry['losses'][-1]:.6f} |")
    matrix = results["portability"]
    if matrix:
        backends = results["backends"]
        lines += ["", f"Portability: saved on one backend, loaded on another, same predictions "
                  f"(max abs difference <= {TOLERANCE:g})?", "",
                  "| model | saved on | " + " | ".join(f"loads on {b}" for b in backends) + " |",
                  "|" + "---|" * (2 + len(backends))]
        for model, by_source in matrix.items():
            for source, by_target in by_source.items():
                lines.append(f"| {model} | {source} | " + " | ".join(
                    _cell(by_target.get(target)) for target in backends) + " |")
    return "\n".join(lines) + "\n"


def compare(backends, workloads, steps, batch_size, length, model_paths, output_dir,
            log=print, jit_compile="auto"):
    """Runs every workload and the portability matrix; writes compare.json/.md/.png."""
    from attention_zoo import plots

    os.makedirs(output_dir, exist_ok=True)
    settings = {"steps": steps, "batch_size": batch_size, "length": length,
                "jit_compile": jit_compile}
    results = {"machine": machine(), "backends": backends,
               "config": {"workloads": workloads, **settings, "models": model_paths},
               "workloads": {}, "portability": {}}
    for workload in workloads:
        results["workloads"][workload] = compare_workload(workload, backends, output_dir,
                                                          settings, log)
    if model_paths:
        results["portability"] = portability(model_paths, backends,
                                             os.path.join(output_dir, "portability"), log)
    saving.write_json(os.path.join(output_dir, "compare.json"), results)
    saving.atomic_write_text(os.path.join(output_dir, "compare.md"), markdown(results))
    if results["workloads"]:
        plots.backend_comparison(results["workloads"], os.path.join(output_dir, "compare.png"))
    return results


def make_parser():
    parser = argparse.ArgumentParser(
        prog="attention-zoo compare", description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--backends", nargs="+", choices=backend.BACKENDS,
                        help="default: every installed backend")
    parser.add_argument("--workloads", nargs="*", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--steps", type=int, default=20,
                        help="timed forward passes and identical training steps (>= 2)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--length", type=int, default=32, help="tokens per sequence")
    parser.add_argument("--models", nargs="*", help=".keras files or preset folders for the "
                        "portability matrix (none: skip it); default: the runs of --manifest")
    parser.add_argument("--manifest", default=SHIPPED_MANIFEST,
                        help="a manifest.json of run folders (default: the shipped models')")
    parser.add_argument("--jit-compile", action="store_const", const=True, default="auto",
                        help="compile every step with jit_compile=True (torch: the model's call "
                        "exported and compiled whole with torch.compile; "
                        "the first forward and train step then include its compile time); "
                        "default: Keras's auto (XLA on TensorFlow and JAX, eager torch)")
    parser.add_argument("--output-dir", default=os.path.join("runs", "compare"))
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    return parser


def main(argv=None):
    args = make_parser().parse_args(argv)
    if args.steps < 2:
        raise ValueError(f"--steps must be >= 2 (one warm-up step); received {args.steps}")
    backends = args.backends or backend.installed()
    log = (lambda *_: None) if args.json else (lambda message: print(message, flush=True))
    results = compare(backends, args.workloads, args.steps, args.batch_size, args.length,
                      model_paths(args.models, args.manifest), os.path.abspath(args.output_dir),
                      log, args.jit_compile)
    if not args.json:
        print(markdown(results))
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker(json.loads(sys.argv[2]))))
    else:
        main()
