"""Print how well a voice's session is understood: its word error rate, heard as
``tests/test_intelligibility.py`` hears it, over several takes, and what was misheard
in most of them (the sentences to mend). Takes differ by the noise of a sampled voice
(Piper's ``seeded.SEED``); a voice seeded once (heart) is the same in every take.

    .venv/bin/python scripts/hearing.py joe --takes 5
    .venv/bin/python scripts/hearing.py heart --programme tremor --takes 1

Needs the test extras (``scripts/install --test``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hearing import hear  # noqa: E402

from tre_audio.cli import cli  # noqa: E402
from tre_audio.speech import seeded  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("voice")
    parser.add_argument("--programme", default="classic")
    parser.add_argument("--takes", type=int, default=5)
    args = parser.parse_args()
    rates, misheard, sentences = [], Counter[str](), Counter[str]()
    with tempfile.TemporaryDirectory() as folder:
        for take in range(args.takes):
            seeded.SEED = take
            out = Path(folder) / f"take{take}.mp3"
            cli.main(["generate", args.programme, "--voice", args.voice, "--no-record",
                      "-o", str(out)], standalone_mode=False)
            heard = hear(out)
            rates.append(heard.error_rate)
            misheard.update(set(heard.misheard()))
            for count, sentence in heard.errors_by_sentence():
                sentences[sentence] += count
            print(f"take {take}: {heard.error_rate:.2%} of {len(heard.said.split())} words",
                  flush=True)
    print(f"{args.voice}: mean {statistics.mean(rates):.2%}, "
          f"{min(rates):.2%} to {max(rates):.2%} over {len(rates)} takes")
    print("misheard in most takes (said -> heard):")
    for what, times in misheard.most_common():
        if times * 2 > len(rates) or len(rates) == 1:
            print(f"  {times}/{len(rates)}  {what}")
    print("the sentences with the most words misheard, over all takes:")
    for sentence, count in sentences.most_common(25):
        print(f"  {count:3}  {sentence}")


if __name__ == "__main__":
    main()
