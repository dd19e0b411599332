"""PNG plots, written atomically. Figures are built with `matplotlib.figure.Figure`, not
pyplot, so no display is needed and the caller's matplotlib backend is left alone."""

from attention_zoo.saving import replacing


def save_figure(figure, path):
    """Saves `figure` as a PNG atomically (temporary file, then rename)."""
    with replacing(path, suffix=".png") as temporary:
        figure.savefig(temporary, dpi=100, bbox_inches="tight")


def training_curves(history, path):
    """Loss and every other metric per epoch, training and validation, one panel each (a
    metric measured on validation only, such as val_bleu, too)."""
    from matplotlib.figure import Figure

    names = list(dict.fromkeys(name.removeprefix("val_") for name in history))
    figure = Figure(figsize=(4.5 * len(names), 3.5))
    for axis, name in zip(figure.subplots(1, len(names), squeeze=False)[0], names):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            if key in history:
                axis.plot(range(1, len(history[key]) + 1), history[key], marker="o",
                          label=label)
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.legend()
    save_figure(figure, path)


def attention_heatmap(weights, source_tokens, target_tokens, path, title=""):
    """One heatmap per head of (heads, target_length, source_length) attention `weights`:
    rows are the target tokens, columns the source tokens they attend to."""
    from matplotlib.figure import Figure

    heads = len(weights)
    width = max(3.0, 0.35 * len(source_tokens) + 1.5)
    figure = Figure(figsize=(width * heads, max(2.5, 0.3 * len(target_tokens) + 1.5)),
                    layout="constrained")
    for head, axis in enumerate(figure.subplots(1, heads, squeeze=False)[0]):
        axis.imshow(weights[head], cmap="viridis", vmin=0.0, aspect="auto")
        axis.set_xticks(range(len(source_tokens)), source_tokens, rotation=90, fontsize=8)
        axis.set_yticks(range(len(target_tokens)), target_tokens, fontsize=8)
        axis.set_title(f"head {head + 1}" if heads > 1 else "attention", fontsize=9)
    figure.suptitle(title, fontsize=9)
    save_figure(figure, path)


def backend_comparison(workloads, path):
    """Grouped bars per workload, one per backend: train-step time, forward latency and the
    first train step (compile), from `compare`'s {workload: {backend: measurements}}."""
    from matplotlib.figure import Figure

    panels = (("train_step_ms", "train step (ms)"), ("forward_ms", "forward (ms)"),
              ("first_train_step_s", "first train step (s)"))
    backends = list(dict.fromkeys(name for entry in workloads.values() for name in entry))
    width = 0.8 / len(backends)
    figure = Figure(figsize=(4.5 * len(panels), 3.5), layout="constrained")
    for axis, (key, title) in zip(figure.subplots(1, len(panels)), panels):
        for offset, name in enumerate(backends):
            positions = [i + offset * width for i in range(len(workloads))]
            values = [entry.get(name, {}).get(key, 0.0) for entry in workloads.values()]
            axis.bar(positions, values, width, label=name)
        axis.set_xticks([i + 0.4 - width / 2 for i in range(len(workloads))], list(workloads))
        axis.set_title(title)
    figure.axes[0].legend()
    save_figure(figure, path)


def positional_encoding(encoding, path):
    """The (length, dim) sinusoidal `encoding` as a heatmap, and the (length, length) dot
    products PE(i) . PE(j) beside it (constant along each diagonal: they depend on i - j)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    image = left.imshow(encoding, cmap="RdBu", aspect="auto", vmin=-1, vmax=1)
    left.set_xlabel("feature")
    left.set_ylabel("position")
    left.set_title("PE(position)")
    figure.colorbar(image, ax=left)
    image = right.imshow(encoding @ encoding.T, cmap="viridis")
    right.set_xlabel("position j")
    right.set_ylabel("position i")
    right.set_title("PE(i) . PE(j)")
    figure.colorbar(image, ax=right)
    save_figure(figure, path)
