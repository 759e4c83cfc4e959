"""``parley evaluate FILE.csv``: a labelled file replayed through the real rules and the
classifier, Akismet skipped (docs/contract.md §8; shared.classifier.replay).

Touches no database and no Redis: the learning happens in memory. Exit 0 with the
report, 2 for a file that is not a labelled CSV (the message says why).
"""

from __future__ import annotations

import json
import sys

import click

# shared.classifier.model.LEARNERS, named here so that `parley --help` does not load
# scikit-learn (tests/unit/cli/test_classifier_cli.py keeps the two equal).
LEARNERS = ("logreg", "nb", "sgd")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _share(statuses: dict[str, int], *names: str) -> float | None:
    total = sum(statuses.values())
    return sum(statuses.get(n, 0) for n in names) / total if total else None


def render(report: dict, path: str) -> str:
    """The report as the table a person reads."""
    clf = report["classifier"]
    if clf["mode"] == "off":
        learned = "classifier off"
    elif clf["examples"]:
        ex = clf["examples"]
        learned = (
            f"classifier {clf['mode']} ({clf['learner']}), trained {clf['trained']} times, "
            f"last on {ex['ham']} ham + {ex['spam']} spam"
        )
    else:
        learned = f"classifier silent: fewer than {clf['min_examples']} examples of a class"
    ham, spam = report["statuses"]["ham"], report["statuses"]["spam"]
    lines = [
        f"{path}: seed {report['seed']}, first {report['n_train']} rows learned; {learned}",
        f"judged {report['n_test']} rows: {report['n_test_ham']} ham, "
        f"{report['n_test_spam']} spam (Akismet skipped)",
        "",
        f"{'':<24}{'of spam':>10}{'of ham':>10}",
        f"{'caught (held or spam)':<24}{_pct(report['spam_caught']):>10}",
        f"{'to spam':<24}{_pct(report['spam_to_spam']):>10}{_pct(report['ham_to_spam']):>10}",
        f"{'held':<24}{_pct(_share(spam, 'held')):>10}{_pct(report['ham_to_held']):>10}",
        f"{'published':<24}{_pct(_share(spam, 'published')):>10}"
        f"{_pct(_share(ham, 'published')):>10}",
        f"AUC of the total score: {report['auc'] if report['auc'] is not None else '—'}"
        + (f" (classifier alone: {clf['auc']})" if clf["auc"] is not None else ""),
        "",
        f"{'rule':<26}{'ham fired':>10}{'spam fired':>12}{'ham sole cause':>16}",
    ]
    for rule, row in report["rules"].items():
        lines.append(
            f"{rule:<26}{row['ham_fired']:>10}{row['spam_fired']:>12}{row['ham_sole_cause']:>16}"
        )
    if clf["median_judge_ms"] is not None:
        lines += ["", f"classifier: {clf['median_judge_ms']} ms per comment (median)"]
    return "\n".join(lines)


@click.command()
@click.argument("file")
@click.option(
    "--train-first",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Rows learned from, in order, as if moderators had decided them.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the shuffle.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of tables.")
@click.option(
    "--learner",
    type=click.Choice(LEARNERS),
    default="logreg",
    show_default=True,
    help="The classifier's learner (logreg is the one Parley runs live).",
)
def evaluate(file: str, train_first: int, seed: int, as_json: bool, learner: str) -> None:
    """Replay a labelled CSV (text,label) through the rules and the classifier."""
    from shared.classifier.dataset import BadFile, read
    from shared.classifier.replay import Options, replay
    from shared.config import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        rows = read(file)
    except BadFile as exc:
        click.echo(f"parley evaluate: {file}: {exc}", err=True)
        sys.exit(2)
    options = Options(
        train_first=train_first,
        seed=seed,
        mode=settings.classifier,
        min_examples=settings.classifier_min_examples,
        retrain_every=settings.classifier_retrain_every,
        learner=learner,
        hold_threshold=settings.hold_threshold,
        spam_threshold=settings.spam_threshold,
    )
    report = replay(rows, options, progress=lambda msg: click.echo(msg, err=True))
    click.echo(json.dumps(report, indent=2) if as_json else render(report, file))
