"""The one path every recipe takes: parse -> data -> preprocessor -> model -> fit -> fine-tune ->
evaluate -> save the preset. A recipe subclasses `Recipe` and states only what differs.

>>> sorted(name for name in vars(Recipe) if not name.startswith("_"))[:4]
['build_model', 'callbacks', 'datasets', 'default_name']
"""

import json
import os

from attention_zoo import backend
from attention_zoo.recipes import training


class Recipe:
    """What a recipe defines: its `name` and `description`, and the steps below; `run(args)`
    does the rest (backend, dtype policy and distribution, seed, timing, fit with the training
    callbacks, saving the run folder whole, the JSON line)."""

    name = description = ""

    def default_name(self, args):
        """The run folder's name under --output-dir when --name is not given."""
        raise NotImplementedError

    def load_data(self, args, verbose):
        """The train/validation/test splits."""
        raise NotImplementedError

    def preprocessor(self, args, splits, verbose):
        """The preprocessor (tokenizers learned from the training split)."""
        raise NotImplementedError

    def datasets(self, args, splits, preprocessor):
        """(training tf.data pipeline, validation pipeline)."""
        raise NotImplementedError

    def build_model(self, args, preprocessor, train_data):
        """The compiled model (`len(train_data)` steps an epoch; anything it fits to the
        training data before training, such as a naive Bayes scale, from `train_data`)."""
        raise NotImplementedError

    def trainer(self, args, model):
        """What `fit` trains: the compiled model itself, or a compiled training wrapper that
        holds it (scheduled sampling)."""
        return model

    def callbacks(self, args, splits, trainer):
        """Callbacks of this recipe, besides those of the training flags (they run first, so
        what they add to the logs reaches those)."""
        return []

    def fine_tune(self, model, args, splits, verbose):
        """Training after `fit` (sequence-level training): a report for the results, or None."""
        return None

    def evaluate(self, model, args, splits, train_data, epoch_seconds):
        """Results on the test split: {"test": metrics, ...anything else to report};
        `epoch_seconds` is the mean time of the epochs run."""
        raise NotImplementedError

    def metadata(self, args, splits, results):
        """The preset's description, training data and test metrics."""
        raise NotImplementedError

    def extra_files(self, model, args, splits, results):
        """`write(folder)` for files besides the preset and the curves, or None."""
        return None

    def summary(self, results):
        """The line(s) printed before the JSON line."""
        raise NotImplementedError

    def run(self, args):
        """Trains, evaluates and saves with parsed flags; returns (model, results)."""
        backend.use(args.backend)
        import keras

        from attention_zoo.recipes.training_clock import TrainingClock

        training.configure(args)
        keras.utils.set_random_seed(args.seed)
        verbose = 0 if args.json else 1
        folder = os.path.join(args.output_dir, args.name or self.default_name(args))
        splits = self.load_data(args, verbose)
        preprocessor = self.preprocessor(args, splits, verbose)
        train_data, validation_data = self.datasets(args, splits, preprocessor)
        model = self.build_model(args, preprocessor, train_data)
        model.preprocessor = preprocessor
        trainer = self.trainer(args, model)
        clock = TrainingClock(training.clock_path(folder) if args.resume else None)
        history = trainer.fit(train_data, epochs=args.epochs, validation_data=validation_data,
                              shuffle=False, verbose=verbose,  # the pipelines shuffle
                              callbacks=[*self.callbacks(args, splits, trainer),
                                         *training.callbacks(args, folder), clock])
        # with --resume, the sittings before this one count too; fewer than --epochs when
        # stopped early
        train_seconds, epochs_run = clock.seconds, clock.epochs
        fine_tuned = self.fine_tune(model, args, splits, verbose)
        results = {"recipe": self.name, "backend": args.backend,
                   **self.evaluate(model, args, splits, train_data, train_seconds / epochs_run),
                   **({} if fine_tuned is None else {"sequence_level": fine_tuned}),
                   "train_seconds": round(train_seconds, 1),
                   "epochs_run": epochs_run,
                   "parameters": model.count_params(), "saved_to": folder,
                   "history": training.rounded(history.history)}
        metadata = {**self.metadata(args, splits, results),
                    "training_time": {"seconds": results["train_seconds"],
                                      "epochs_run": epochs_run,
                                      "hardware": training.hardware()}}
        training.save_run(folder, model, {"recipe": self.name, **vars(args)}, results,
                          history.history, metadata,
                          self.extra_files(model, args, splits, results))
        if not args.json:
            print(self.summary(results))
        print(json.dumps(results, ensure_ascii=False))
        return model, results
