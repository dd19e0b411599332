"""PNG plots, written atomically. Figures are built with `matplotlib.figure.Figure`, not
pyplot, so no display is needed and the caller's matplotlib backend is left alone."""

from attention_zoo.saving import replacing


def save_figure(figure, path):
    """Saves `figure` as a PNG atomically (temporary file, then rename)."""
    with replacing(path, suffix=".png") as temporary:
        figure.savefig(temporary, dpi=100, bbox_inches="tight")


def training_curves(history, path):
    """Loss and every other metric per epoch, training and validation, one panel each."""
    from matplotlib.figure import Figure

    names = [name for name in history if not name.startswith("val_")]
    figure = Figure(figsize=(4.5 * len(names), 3.5))
    for axis, name in zip(figure.subplots(1, len(names), squeeze=False)[0], names):
        epochs = range(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.legend()
    save_figure(figure, path)
