"""What `attention-zoo translate|classify|evaluate|calibrate` do with a preset: read texts one
per line (arguments, a file or stdin), run the model in batches, write one result per line.

>>> lines = read_lines(None, ["drei Äpfel", "  "])
>>> [(line.where, line.text) for line in lines]
[('argument 1', 'drei Äpfel'), ('argument 2', '  ')]
"""

import collections
import json
import sys

from attention_zoo.data.files import decode_utf8, read_tsv

Line = collections.namedtuple("Line", "where text")


def read_lines(path, texts=None, stdin=None):
    """The inputs, each with where it came from: `texts` (arguments) when given, else the lines
    of `path` or of stdin. Bytes that are not UTF-8 raise a ValueError naming file and line."""
    if texts:
        return [Line(f"argument {number}", text) for number, text in enumerate(texts, 1)]
    name = path or "<stdin>"
    if path is None:
        raw = (stdin or sys.stdin.buffer).read()
    else:
        with open(path, "rb") as file:
            raw = file.read()
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [Line(f"{name}:{number}", decode_utf8(line, name, number).rstrip("\r"))
            for number, line in enumerate(lines, 1)]


def batches(lines, batch_size):
    """`lines` in batches, with a progress bar on stderr when there is more than one."""
    from tqdm import tqdm

    starts = range(0, len(lines), batch_size)
    for start in tqdm(starts, desc="batches", unit="batch", file=sys.stderr,
                      disable=len(starts) <= 1):
        yield lines[start:start + batch_size]


def run(lines, predict, plain, batch_size, as_json, output=None):
    """Writes one result per input line: `predict(texts) -> (results, too_long)` for the
    non-empty ones, each result as a JSON line or as `plain(result)`; an empty line gets an
    error on stderr and an empty result. Returns the number of lines that failed."""
    output = output or sys.stdout
    failed = 0
    for batch in batches(lines, batch_size):
        valid = [line for line in batch if line.text.strip()]
        results, too_long = predict([line.text for line in valid]) if valid else ([], [])
        by_line = dict(zip(valid, zip(results, too_long)))
        for line in batch:
            if line not in by_line:
                failed += 1
                error = f"{line.where}: empty input; expected a text"
                print(f"error: {error}", file=sys.stderr)
                print(json.dumps({"input": line.text, "error": error}) if as_json else "",
                      file=output)
                continue
            result, truncated = by_line[line]
            if truncated:
                print(f"warning: {line.where}: longer than the model reads; only its first "
                      f"tokens were used", file=sys.stderr)
            print(json.dumps({"input": line.text, **result}, ensure_ascii=False) if as_json
                  else plain(result), file=output)
    return failed


def translator_predict(model, settings):
    """`predict` for `run`: translations with the sampler `settings` of generate()."""
    def predict(texts):
        ids, too_long = model.encode_texts(texts)
        translations = model.preprocessor.decode_targets(model.generate(ids, **settings))
        return [{"translation": text} for text in translations], too_long

    return predict


def classifier_predict(model, top_tokens):
    """`predict` for `run`: label, probabilities and the most attended word pieces."""
    def predict(texts):
        _, too_long = model.preprocessor.encode(texts)
        results = model.predict_texts(texts, top_tokens=top_tokens)
        return results, too_long

    return predict


def evaluate(model, path, settings):
    """Test metrics of `model` on the labelled TSV at `path`: BLEU/chrF/exact match of a
    translator (source<TAB>reference) or accuracy/macro F1/expected calibration error of a
    classifier (label<TAB>text)."""
    from attention_zoo import metrics
    from attention_zoo.models import AttentionClassifier, Translator

    if not isinstance(model, (Translator, AttentionClassifier)):
        raise ValueError(f"model must be a translator or a classifier preset; received a "
                         f"{type(model).__name__} (a pretrained encoder reports its masked-token "
                         f"accuracy in its metadata.json)")
    if isinstance(model, Translator):
        rows = read_tsv(path, columns=2)
        translations = model.generate([source for source, _ in rows], **settings)
        return {**metrics.translation_report(translations, [target for _, target in rows]),
                "pairs": len(rows)}
    texts, labels = _labelled_texts(model, path)
    results = model.predict_texts(texts)
    names = model.preprocessor.class_names
    probabilities = [[result["probabilities"][name] for name in names] for result in results]
    return {**metrics.classification_report(
                labels, [names.index(result["label"]) for result in results], len(names)),
            "ece": round(metrics.expected_calibration_error(probabilities, labels), 4),
            "examples": len(texts)}


def calibrate(folder, path, batch_size=64):
    """Fits the temperature of the classifier preset in `folder` on the labelled TSV at `path`
    (label<TAB>text; held-out data, not the training set) by temperature scaling (Guo et al.,
    2017: the T minimizing the negative log-likelihood of softmax(logits / T)), and writes it
    into the preset: its config.json gets the temperature, its metadata.json a `calibration`
    record. Labels and weights do not change; the probabilities `classify` and `evaluate`
    report do. Returns the record: temperature, examples, and the expected calibration error on
    that data before (at the preset's temperature until now) and after."""
    import datetime

    from attention_zoo import metrics, presets
    from attention_zoo.models import AttentionClassifier

    if not presets.is_preset(folder):  # a name or a handle: no folder of the user's to update
        raise ValueError(f"--model must be a classifier preset folder (calibrate writes the "
                         f"temperature into it); received {folder}")
    model = AttentionClassifier.from_preset(folder)
    texts, labels = _labelled_texts(model, path)
    ids, _ = model.preprocessor.encode(texts)
    logits = model.predict(ids, batch_size=batch_size, verbose=0)
    before = model.temperature
    model.temperature = metrics.fit_temperature(logits, labels)
    record = {"temperature": round(model.temperature, 4), "data": path, "examples": len(texts),
              "date": datetime.date.today().isoformat(),
              **{f"ece_{when}": round(metrics.expected_calibration_error(
                  metrics.softmax(logits, temperature), labels), 4)
                 for when, temperature in (("before", before), ("after", model.temperature))}}
    record = presets.portable(record)  # the data file's name, not a folder of this machine
    presets.update_config(model, folder, {"calibration": record})
    return record


def _labelled_texts(model, path):
    """(texts, label indices) of the label<TAB>text file at `path`; every label must be one of
    the classifier's classes."""
    rows = read_tsv(path, columns=2)
    names = model.preprocessor.class_names
    unknown = sorted({label for label, _ in rows} - set(names))
    if unknown:
        raise ValueError(f"{path}: labels must be the model's classes {names}; received "
                         f"{unknown[:5]}")
    return [text for _, text in rows], [names.index(label) for label, _ in rows]
