"""What `attention-zoo translate|classify|evaluate` do with a preset: read texts one per line
(arguments, a file or stdin), run the model in batches, write one result per line.

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
    rows = read_tsv(path, columns=2)
    if isinstance(model, Translator):
        translations = model.generate([source for source, _ in rows], **settings)
        return {**metrics.translation_report(translations, [target for _, target in rows]),
                "pairs": len(rows)}
    names = model.preprocessor.class_names
    unknown = sorted({label for label, _ in rows} - set(names))
    if unknown:
        raise ValueError(f"{path}: labels must be the model's classes {names}; received "
                         f"{unknown[:5]}")
    results = model.predict_texts([text for _, text in rows])
    labels = [names.index(label) for label, _ in rows]
    probabilities = [[result["probabilities"][name] for name in names] for result in results]
    return {**metrics.classification_report(
                labels, [names.index(result["label"]) for result in results], len(names)),
            "ece": round(metrics.expected_calibration_error(probabilities, labels), 4),
            "examples": len(rows)}
