"""PNG plots (matplotlib, no display needed), written atomically."""

from attention_zoo.saving import replacing


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path):
    """Saves `figure` as a PNG atomically (temporary file, then rename) and closes it."""
    try:
        with replacing(path, suffix=".png") as temporary:
            figure.savefig(temporary, dpi=100, bbox_inches="tight")
    finally:
        _figure().close(figure)


def training_curves(history, path):
    """Loss and every other metric per epoch, training and validation, one panel each."""
    plt = _figure()
    names = [name for name in history if not name.startswith("val_")]
    figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for axis, name in zip(axes[0], names):
        epochs = range(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.legend()
    save_figure(figure, path)
