#!/usr/bin/env python3
"""Derive src/sentiment/lexicon/vader_en.tsv from VADER's lexicon.

    python3 -m venv /tmp/vader && /tmp/vader/bin/pip install vaderSentiment==3.3.2
    /tmp/vader/bin/python scripts/derive_vader_lexicon.py

VADER (Hutto and Gilbert, ICWSM 2014; https://github.com/cjhutto/vaderSentiment,
MIT licence) rates about 7,500 English words by their mean valence from −4 to +4.
The complaint detector takes its clearly negative words (mean ≤ THRESHOLD),
written as plain words, and leaves out:

- the words the built-in lexicon (en.yaml) already weighs, or covers with a
  prefix (`frustrat*`): en.yaml's weight, tuned on support messages, wins;
- words that, in a support message, name a thing that happened rather than
  how the customer feels about it: a neutral first report of a problem
  ("my card was stolen", "error 403", "the screen is broken", "my
  payment was rejected", "I'm having trouble logging in") is not a
  complaint, and one such word alone would make it one;
- words of safety (death, killing, self-harm: the detector's safety lexicon
  handles them), crime, health, money and war, which customers use to report
  facts, and words common in neutral questions ("is it difficult to...",
  "do I need to worry...");
- slurs, and chat acronyms that are also ordinary words or names (PO box,
  NFC, Kia, pita).

The scorer turns each mean into a weight (see VADER_SCALE in
src/sentiment/lexicon.rs).
"""

import importlib.metadata
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "sentiment" / "lexicon" / "vader_en.tsv"
EN_YAML = ROOT / "src" / "sentiment" / "lexicon" / "en.yaml"
THRESHOLD = -1.5

# Words named by what happened, reported without feeling, and words of
# safety, crime, health, money, war and neutral questions (see above).
EXCLUDED_PREFIXES = [
    # events and problems, as reported
    "abandon", "accident", "block", "broke", "collapse", "collision", "crash",
    "damag", "defect", "disrupt", "error", "erroneous", "fail", "fallen",
    "fault", "hacked", "lags", "lose", "losing", "losses", "problem", "prblm",
    "reject", "restrict", "suspended", "trouble", "shatter", "severed",
    "unsupported", "unsecured", "unprotected", "unstable", "forbid", "denied",
    "denier", "denies", "overload", "overweight", "lowest", "weak", "disturb",
    "struggl", "mistaken", "misunderstand", "spam", "strikes", "dispute",
    "disput", "negativ", "dump", "mock", "gross", "grave", "blind", "beaten",
    "beating", "penalty", "shock", "cried", "cries", "cry", "crying", "sob",
    "panic", "emergency", "doubt", "difficult", "worry", "worries", "worrit",
    "worrisome", "risk", "fear", "dread", "scare", "scary", "scarey", "fright",
    "terrif", "terror", "threat", "suspici", "spite", "temper", "drained",
    "exhaust", "sore", "rash", "pain", "ache", "aching", "hurt", "hurts",
    "hurting", "hurter", "injur", "infect", "ignore", "interrupt",
    "inability", "inhibit", "incapacitat", "obstacle", "trembl", "quaking",
    "strained", "tens", "slam", "smear", "smother", "lies", "haunt",
    "decay", "destr", "defeat", "crude", "eerie", "empti", "guilt",
    "jealous", "insecur", "infringe", "melanchol", "mistakes", "mood",
    "offend", "offense", "pessimis", "petrif", "stubborn", "unfortunate",
    "unsuccessful", "louse", "madly", "overreact", "embarrassed",
    "disoriented", "fired", "burden", "burdens", "burdened", "burdener",
    "crisis", "crush", "ticked", "corpse", "disorder", "disabl",
    "disqualif", "distract", "powerless", "severe", "severer", "severest",
    "waste", "homesick", "illitera", "darkest", "illegal", "ill", "illness",
    # safety, crime, violence, war
    "kill", "murder", "die", "died", "dead", "death", "fatal", "suicid",
    "assassin", "assault", "attack", "abduct", "rape", "rapi", "molest",
    "stab", "choke", "chok", "strangl", "drown", "bomb", "weapon", "war",
    "riot", "terroris", "violen", "violat", "harm", "poison", "prison",
    "jail", "arrest", "imprison", "interrogat", "heroin", "hooligan",
    "isolation", "detain", "detention", "crime", "criminal", "felon",
    "steal", "stolen", "thie", "rob", "fraud", "swindl", "smuggl", "perjury",
    "prosecut", "punish", "abuse", "abusi", "abuser", "bully", "bullied",
    "bullying", "harass", "torture", "tortur", "slavery", "enslave",
    "totalitarian", "fascist", "sedition", "treason", "casualty",
    "catastroph", "tragic", "traged", "trauma", "stampede", "havoc", "peril",
    "danger", "jeopardy", "menace", "evict", "foreclos", "victim",
    # health, bereavement
    "cancer", "tumor", "flu", "sick", "puke", "starv", "funeral", "bereave",
    "grie", "widowed", "mourn", "depress", "lonel", "lonesome", "phobia",
    "paranoi", "neurotic", "masochis", "sleepless", "unhealthy", "contagion",
    # money
    "debt", "deficit", "bankrupt", "bankster", "poverty", "poorer", "poorest",
    "recession", "unemploy", "shylock", "lowball",
    # religion, the supernatural, and food that shares a word
    "devil", "evil", "sin", "witch", "damnation", "damnatory", "doom",
    # fights and arguments between other people
    "fight", "foe", "enem", "battle", "feud", "argu", "conflict", "confront",
    "antagonis", "rebel", "protest", "boycott", "censor", "ban", "expel",
    "oppress", "repress", "persecut", "prejudic", "racis", "scandal",
    "conspiracy", "agitat", "outcry", "revenge", "vulture", "freeload",
    "mooch", "miser", "gossip", "zealot", "egotis", "snob", "smug", "nag",
    "whine", "sulk", "tantrum", "mope", "scream", "weep", "wept",
]

# Slurs and sexual insults: a customer who uses one is abusive, which the
# profanity already in the lexicon shows; they are not shipped.
EXCLUDED_WORDS = {
    "nigger", "fag", "faggot", "faggots", "retard", "retarded", "tard",
    "slut", "sluts", "sluttier", "sluttiest", "sluttish", "sluttishly",
    "sluttishness", "sluttishnesses", "slutty", "whore", "whored", "whoredom",
    "whoredoms", "whorehouses", "whoremaster", "whoremasters", "whoremonger",
    "whoremongers", "whores", "whoreson", "whoresons", "promiscuity",
    "promiscuously", "pervert", "perverted", "perverter", "perverts",
    "cunt", "cunts", "cocksucker", "cocksuckers", "assfucking", "twat",
    "seduced", "lowery", "amort", "robing", "nagana", "stinko",
}

# Chat acronyms that are also ordinary words or names (PO box, NFC, Kia,
# pita bread, "dead on arrival" as a plain report), or too rare to trust.
ACRONYMS_EXCLUDED = {
    "afu", "atab", "bfd", "bfe", "bsod", "btd", "cwot", "doa", "dx", "fcol",
    "fkm", "fu", "kia", "mofo", "nfc", "nfw", "nitl", "nme", "pita", "po",
    "qq", "sob",
}


def en_yaml_terms() -> tuple[set[str], list[str]]:
    """Every term of en.yaml, and its prefix (`*`) terms."""
    words, prefixes = set(), []
    for line in EN_YAML.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^  (?:- )?([^#:][^:]*?)(?::\s*[\d.]+)?\s*$", line)
        if not m:
            continue
        term = m.group(1).strip().strip("'\"").lower()
        if term.endswith("*"):
            prefixes.append(term[:-1])
        else:
            words.add(term)
    inline = re.search(r"^negators: \[(.*)\]", EN_YAML.read_text(encoding="utf-8"), re.M)
    if inline:
        words.update(w.strip() for w in inline.group(1).split(","))
    return words, prefixes


def main() -> None:
    import vaderSentiment

    version = importlib.metadata.version("vaderSentiment")
    source = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    words, prefixes = en_yaml_terms()
    kept = []
    for line in source.read_text(encoding="utf-8").splitlines():
        term, mean, *_ = line.split("\t")
        mean = float(mean)
        if mean > THRESHOLD or not re.fullmatch(r"[a-z][a-z'\-]*", term):
            continue
        if term in words or any(term.startswith(p) for p in prefixes):
            continue
        if term in EXCLUDED_WORDS or any(term.startswith(p) for p in EXCLUDED_PREFIXES):
            continue
        if term in ACRONYMS_EXCLUDED:
            continue
        kept.append((term, mean))
    header = f"""\
# Negative words of VADER's sentiment lexicon, for the complaint detector.
#
# Derived from vader_lexicon.txt of vaderSentiment {version} (PyPI;
# https://github.com/cjhutto/vaderSentiment), by C.J. Hutto; see Hutto, C.J.
# and Gilbert, E.E. (2014). VADER: A Parsimonious Rule-based Model for
# Sentiment Analysis of Social Media Text. ICWSM-14.
# Copyright (c) 2016 C.J. Hutto. MIT licence: see VADER_LICENSE beside this
# file.
#
# Written by scripts/derive_vader_lexicon.py, which says what is taken and
# what is left out; do not edit by hand (weigh or remove a word in en.yaml,
# which is read after this file and wins). Each line: the word, a tab, and
# VADER's mean valence (-4 to +4, here only <= {THRESHOLD}).
"""
    body = "".join(f"{term}\t{mean}\n" for term, mean in kept)
    OUT.write_text(header + body, encoding="utf-8")
    print(f"{len(kept)} words written to {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
