#!/usr/bin/env python3
"""Streams messages through `madoguchi classify` and through RiveScript.

Reproduces the CLI figures in BENCHMARKS.md:

    python3 scripts/bench_cli.py            # 200,000 messages, example rules
    python3 scripts/bench_cli.py --lines 20000 --rivescript-lines 20000

The messages are generated here from our own phrase lists (Japanese and
English, one in eight out of scope), so the measurement does not depend on
any data set. RiveScript (PyPI `rivescript`) is installed into a virtual
environment under target/ on first use and given 1,000 triggers: the
example rules' keywords where they fit, padded with generated ones.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "target" / "bench-venv"

JA_TOPICS = [
    "注文した商品がまだ届きません", "配送状況を知りたいです", "注文をキャンセルしたいです",
    "返品したいのですが", "返金はいつになりますか", "サイズを交換できますか",
    "届いた商品が壊れていました", "違う商品が届きました", "クーポンが使えません",
    "ポイントの有効期限を教えてください", "支払い方法を変更したい", "領収書を発行してほしい",
    "パスワードを忘れました", "ログインできません", "退会したいです", "営業時間を教えてください",
    "在庫はありますか", "再入荷の予定はありますか", "ギフト包装はできますか", "送料はいくらですか",
    "海外に発送できますか", "お届け先の住所を変更したい", "メルマガを停止したい", "ありがとうございました",
]
EN_TOPICS = [
    "my order hasn't arrived yet", "where is my parcel", "I want to cancel my order",
    "how do I return an item", "when will I get my refund", "can I exchange for a bigger size",
    "the item arrived damaged", "I received the wrong item", "my coupon code doesn't work",
    "how do points work", "which payment methods do you accept", "I need a receipt",
    "I forgot my password", "I can't log in", "please delete my account", "what are your opening hours",
    "is this in stock", "when will it be restocked", "do you offer gift wrapping",
    "how much is shipping", "do you ship abroad", "I need to change my delivery address",
    "unsubscribe me from the newsletter", "thanks a lot",
]
OUT_OF_SCOPE = [
    "明日の天気はどうですか", "おすすめのレストランを教えて", "what's the weather tomorrow",
    "tell me a joke", "how tall is mount fuji", "book me a flight to osaka",
]
JA_OPENERS = ["", "すみません、", "こんにちは。", "お世話になっております。", "あの、"]
JA_CLOSERS = ["", "。", "。よろしくお願いします。", "！", "？"]
EN_OPENERS = ["", "Hi, ", "Hello there, ", "Quick question: ", "Sorry to bother you, "]
EN_CLOSERS = ["", ".", "?", " please.", ", thanks!"]


def messages(count, seed=7):
    rng = random.Random(seed)
    out = []
    for n in range(count):
        if n % 8 == 7:
            out.append(rng.choice(OUT_OF_SCOPE))
            continue
        order = f"{rng.randrange(10**7, 10**8)}"
        if n % 2 == 0:
            text = rng.choice(JA_OPENERS) + rng.choice(JA_TOPICS) + rng.choice(JA_CLOSERS)
            if n % 3 == 0:
                text += f"注文番号は{order}です。"
        else:
            text = rng.choice(EN_OPENERS) + rng.choice(EN_TOPICS) + rng.choice(EN_CLOSERS)
            if n % 3 == 0:
                text += f" Order number {order}."
        out.append(text)
    return out


def run_madoguchi(path, lines):
    """Best of three runs with the output thrown away (so that the reader
    of the output is not what is measured), then one run to check it."""
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    command = [ROOT / "target" / "release" / "madoguchi", "classify", "--rules", "rules"]
    best = None
    for _ in range(3):
        with open(path, "rb") as stdin:
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, stdin=stdin, stdout=subprocess.DEVNULL, check=True)
            elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    with open(path, "rb") as stdin, tempfile.TemporaryFile() as out:
        subprocess.run(command, cwd=ROOT, stdin=stdin, stdout=out, check=True)
        out.seek(0)
        results = [json.loads(line) for line in out]
    assert len(results) == lines, f"{len(results)} lines out for {lines} in"
    matched = sum(1 for r in results if r["intent"] is not None)
    return best, matched


def ensure_rivescript():
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "rivescript"], check=True)
    return python


RIVESCRIPT_RUNNER = r'''
import sys, time
from rivescript import RiveScript
rive, inputs = sys.argv[1], sys.argv[2]
bot = RiveScript(utf8=True)
bot.load_file(rive)
bot.sort_replies()
lines = open(inputs, encoding="utf-8").read().splitlines()
start = time.perf_counter()
matched = 0
for line in lines:
    if "ERR:" not in bot.reply("customer", line):
        matched += 1
print(time.perf_counter() - start, matched)
'''


def rivescript_triggers(count, seed=11):
    """1,000 triggers: the topics' key phrases, then generated words."""
    rng = random.Random(seed)
    words = set()
    for topic in JA_TOPICS + EN_TOPICS:
        for word in topic.lower().replace("'", "").split():
            if len(word) > 3:
                words.add(word)
    words = sorted(words)
    syllables = ["ka", "lo", "mi", "ra", "den", "vor", "sel", "tan", "pel", "gri", "sto", "bun"]
    while len(words) < count:
        words.append("".join(rng.choice(syllables) for _ in range(3)))
    lines = ["! version = 2.0", ""]
    for n, word in enumerate(words[:count]):
        lines += [f"+ [*] {word} [*]", f"- answer {n}", ""]
    return "\n".join(lines)


def run_rivescript(path, lines):
    python = ensure_rivescript()
    with tempfile.NamedTemporaryFile("w", suffix=".rive", delete=False, encoding="utf-8") as rive:
        rive.write(rivescript_triggers(1000))
    runner = Path(rive.name).with_suffix(".py")
    runner.write_text(RIVESCRIPT_RUNNER)
    result = subprocess.run([python, runner, rive.name, path], stdout=subprocess.PIPE, check=True)
    elapsed, matched = result.stdout.decode().split()
    os.unlink(rive.name)
    runner.unlink()
    return float(elapsed), int(matched)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rivescript-lines", type=int, default=20_000)
    parser.add_argument("--skip-rivescript", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "messages.txt"
        path.write_text("\n".join(messages(args.lines)) + "\n", encoding="utf-8")
        elapsed, matched = run_madoguchi(path, args.lines)
        print(f"madoguchi classify: {args.lines} messages in {elapsed:.3f} s "
              f"({args.lines / elapsed:,.0f} messages/s), {matched} matched an intent")
        if args.skip_rivescript:
            return
        rpath = Path(tmp) / "rivescript.txt"
        rpath.write_text("\n".join(messages(args.rivescript_lines)) + "\n", encoding="utf-8")
        elapsed, matched = run_rivescript(rpath, args.rivescript_lines)
        print(f"rivescript (1,000 triggers): {args.rivescript_lines} messages in {elapsed:.3f} s "
              f"({args.rivescript_lines / elapsed:,.0f} messages/s), {matched} got a reply")


if __name__ == "__main__":
    main()
