#!/usr/bin/env python3
"""The e-mail channel's test corpus: raw RFC 5322 messages made by real encoders.

Regenerate (from the repository root, with the venv that CI builds from
tests/mail/requirements.txt):

    target/mail-venv/bin/python scripts/mail_corpus.py           # write the files
    target/mail-venv/bin/python scripts/mail_corpus.py --check   # compare, write nothing

It writes tests/mail/corpus/<name>.eml and tests/mail/corpus/expected.json;
both are committed, so the Rust tests read them without Python. Every byte
comes from an encoder, never typed in encoded form: Python's `email` package
(EmailMessage with email.policy.SMTP for the modern mailers, email.mime.* with
compat32 and email.header.Header / email.charset.Charset for the legacy
Japanese ones, email.encoders for the transfer encodings, email.generator to
flatten), the codecs iso2022_jp, iso2022_jp_ext, iso2022_jp_2, shift_jis,
cp932 and euc_jp, and nkf (PyPI) for CP50220, the Microsoft ISO-2022-JP with
the NEC and IBM extensions (①, ㈱, Ⅲ) that Python's iso2022_jp cannot encode.
nkf is registered here as the codecs "cp50220" and "iso-2022-jp-ms", and
"windows-31j" as an alias of cp932, so that email.header.Header can fold
subjects in those charsets.

The output is deterministic: fixed dates, Message-IDs and MIME boundaries,
attachment bytes from a seeded hash, nothing read from the clock or random
(byte for byte under the same Python minor version: these were made with
Python 3.11, and the email package's header folding differs between versions).
After writing, the script parses every file back with
email.message_from_bytes(policy=email.policy.default) and checks expected.json
against it: sender, subject (also decoded independently, with nkf for the
ISO-2022-JP family), attachments and their decoded sizes, threading headers,
bounce data, that every text_contains is in the decoded body before every
text_excludes (top posting; for HTML: not in the text once tags, <style>,
<script> and entities are gone) and a small reference classifier for the
outcome and the first suppression reason in the order the product uses.

The messages (tests/mail/corpus/README.md has the table with outcomes):

Japanese charsets
  ja_iso2022jp_shipping          ISO-2022-JP, charset declared, subject =?iso-2022-jp?b?
  ja_iso2022jp_nocharset_returns ISO-2022-JP body with no charset parameter at all
  ja_cp50220_shipping            CP50220 bytes (nkf) labelled iso-2022-jp: ①, ㈱, Ⅲ in body and subject
  ja_iso2022jp_ms_returns        the same kind of bytes labelled "iso-2022-jp-ms"
  ja_cp50220_label_human         the same kind of bytes labelled cp50220
  ja_iso2022jp_ext_hankaku_shipping  half-width katakana (ESC ( I) labelled ISO-2022-JP
  ja_iso2022jp_2_returns         ISO-2022-JP-2 with JIS X 0212 (è in "Crème")
  ja_shift_jis_8bit_shipping     Shift_JIS, 8bit, subject =?Shift_JIS?B?
  ja_windows31j_qp_complaint     CP932 labelled windows-31j, quoted-printable, Q-encoded subject, ①
  ja_cp932_base64_human          CP932 labelled cp932, base64, ㈱ and ①
  ja_euc_jp_base64_returns       EUC-JP, base64
UTF-8, HTML, attachments
  en_utf8_shipping               UTF-8 English, 7bit
  ja_utf8_base64_human           UTF-8 Japanese, base64
  ja_html_only_shipping          text/html only: <br>, <p>, &amp;, <style>, <script>
  en_alternative_complaint       multipart/alternative, angry: broken, no reply for a week
  ja_mixed_photo_rfc2231_complaint  multipart/mixed, JPEG "破損.jpg" as filename*=UTF-8''
  ja_mixed_photo_rfc2047_complaint  multipart/mixed, two JPEGs, filename="=?ISO-2022-JP?B?..."
Forwards, replies, signatures
  en_forward_gmail_returns       Gmail "---------- Forwarded message ---------"
  ja_forward_tensou_shipping     Thunderbird "-------- 転送メッセージ --------"
  en_reply_gmail_human           Gmail "On Mon, 17 Nov 2025 at 14:06, ... wrote:" and > lines
  ja_thread_1_returns            first message of a thread of three
  ja_thread_2_reply_gmail_returns   Gmail "2025年11月17日(月) 14:06 ... <...>:", References of 2
  ja_thread_3_reply_gmail_returns   the third, nested quotes, References of 4
  en_reply_outlook_complaint     Outlook "________________________________" From:/Sent:/To:/Subject:
  ja_reply_outlook_human         Outlook 差出人:/送信日時:/宛先:/件名:
  ja_reply_thunderbird_shipping  Thunderbird "... さんは書きました:"
  ja_signature_block_shipping    a ━━━━ signature block (name, clinic, TEL)
  en_signature_dashes_returns    a "-- " signature
  ja_reply_no_headers_returns    "Re: 返品について" without In-Reply-To/References (Shift_JIS, base64)
Automatic replies (suppressed)
  en_ooo_auto_submitted          Auto-Submitted: auto-replied
  ja_ooo_x_auto_response_suppress  不在通知 with only X-Auto-Response-Suppress: All
  en_ooo_precedence_auto_reply   Precedence: auto_reply
  ja_ooo_x_autoreply             X-Autoreply: yes
  en_ooo_x_autorespond           X-Autorespond: ...
  en_vacation_null_sender        Return-Path: <> and Auto-Submitted (null sender comes first)
Lists (suppressed)
  en_list_newsletter             List-Id and List-Unsubscribe
  ja_list_precedence_bulk        List-Id and Precedence: bulk (precedence comes first)
  en_precedence_junk             Precedence: junk
Bounces
  bounce_dsn_rfc822              multipart/report DSN, message/rfc822, Return-Path: <>
  bounce_dsn_rfc822_headers      multipart/report DSN, text/rfc822-headers
  bounce_exim_x_failed_recipients  Exim text bounce with X-Failed-Recipients
Role and own senders, loops (suppressed)
  role_noreply, role_no_reply, role_postmaster, role_owner_list, role_list_request, role_abuse
  own_address                    From: support@shop.example
  own_x_loop                     X-Loop: support@shop.example
  own_message_id                 the message's own Message-ID is ours (@shop.example)
Sender authentication
  dmarc_fail_shipping            Authentication-Results: mx.shop.example; dmarc=fail (suppressed)
  dmarc_pass_verified_shipping   dmarc=pass from mx.shop.example: verified sender
  dmarc_pass_other_authserv_shipping  dmarc=pass from evil.example: not verified
Loops, undecodable, sensitive data
  ja_naive_autoresponder_loop    an auto-responder without any auto headers answering our reply
  unknown_charset_8bit           charset=x-unknown-charset-42 and 8-bit bytes (quarantined)
  garbage_no_headers             binary bytes, no header structure (quarantined)
  ja_card_number                 a card number in full-width digits and hyphens
"""

import argparse
import codecs
import hashlib
import html.parser
import io
import json
import re
import struct
import sys
from pathlib import Path

import email
import email.base64mime
import email.charset
import email.encoders
import email.header
import email.policy
import email.utils
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage, Message, MIMEPart
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.parser import HeaderParser

import nkf

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "mail" / "corpus"

SHOP = "support@shop.example"
SHOP_JA = "ひなた雑貨店 サポート"
SHOP_EN = "Hinata Zakka Support"

# Modern mailers: EmailMessage, RFC 2047 in UTF-8, CRLF as on the wire.
MODERN = email.policy.SMTP
# Legacy Japanese mailers: email.mime.* with compat32, headers from Header.
LEGACY = email.policy.compat32.clone(linesep="\r\n", max_line_length=78)


# --- nkf as a codec ------------------------------------------------------

# The PyPI binding's option handling is touchy: "--ic=UTF-8 --oc=CP50220"
# still guesses the input (and reads a short "㈱" as Shift_JIS), an option
# after --oc is dropped, and without -m0 nkf decodes "=?...?=" found in the
# text. These spellings are the ones that hold (checked below and on every
# call). Decoding: -J reads ISO-2022-JP with the NEC/IBM rows and JIS X 0212,
# -x keeps ESC ( I half-width kana instead of widening it.
NKF_ENCODE = "-W -m0 --oc=CP50220"
NKF_DECODE = "-x -m0 -J -w"


def cp50220_encode(text: str) -> bytes:
    data = nkf.nkf(NKF_ENCODE, text.encode("utf-8"))
    # nkf passes input through unchanged when it cannot convert: insist on
    # 7-bit output that decodes back to the same text.
    if any(b > 0x7F for b in data) or nkf.nkf(NKF_DECODE, data).decode("utf-8") != text:
        raise ValueError(f"nkf could not encode {text!r} as CP50220")
    return data


def nkf_decode(data: bytes) -> str:
    return nkf.nkf(NKF_DECODE, bytes(data)).decode("utf-8")


def _search(name):
    if name in ("cp50220", "iso_2022_jp_ms"):
        return codecs.CodecInfo(
            lambda text, errors="strict": (cp50220_encode(text), len(text)),
            lambda data, errors="strict": (nkf_decode(data), len(data)),
            name=name,
        )
    if name == "windows_31j":
        return codecs.lookup("cp932")
    return None


codecs.register(_search)

assert cp50220_encode("㈱") == b"\x1b$B-j\x1b(B"
assert nkf_decode("ｶﾅ".encode("iso2022_jp_ext")) == "ｶﾅ"


def charset(label: str, header: str = "B") -> email.charset.Charset:
    """An email.charset.Charset that writes `label` as it is spelled and
    encodes headers in B or Q. Header's folding encodes with the label as the
    codec name (Charset.header_encode_lines), so the label must be a codec."""
    codecs.lookup(label)
    cs = email.charset.Charset("us-ascii")
    cs.input_charset = cs.output_charset = label
    cs.input_codec = cs.output_codec = label
    cs.header_encoding = email.charset.BASE64 if header == "B" else email.charset.QP
    cs.body_encoding = None
    return cs


ISO2022JP = charset("ISO-2022-JP")


def encoded_words(text: str, label: str, encode, limit: int = 64) -> str:
    """RFC 2047 B-words for bytes that Python's codec of the same name cannot
    make (CP50220 or JIS X 0201 kana labelled ISO-2022-JP): whole characters
    per word, each word encoded on its own so it ends back in ASCII."""
    words, chunk = [], ""
    for ch in text:
        if chunk and len(email.base64mime.header_encode(encode(chunk + ch), label)) > limit:
            words.append(email.base64mime.header_encode(encode(chunk), label))
            chunk = ""
        chunk += ch
    words.append(email.base64mime.header_encode(encode(chunk), label))
    return " ".join(words)


# --- building blocks -----------------------------------------------------


def head(m, frm, subject, date, mid, to=SHOP, irt=None, refs=None, rp="sender", top=(), extra=()):
    """Envelope and the usual headers in the order a receiving MTA leaves them.

    subject may be str or Header (legacy); rp is the Return-Path value
    ("sender" = the From address, None = no Return-Path at all)."""
    addr = email.utils.parseaddr(frm)[1]
    if rp == "sender":
        rp = f"<{addr}>" if addr else None
    if rp is not None:
        m["Return-Path"] = rp
    host = addr.split("@")[1] if "@" in addr else "unknown.example"
    host = host if host.startswith(("mx.", "mail.")) else f"mail.{host}"
    m["Received"] = (
        f"from {host} ({host} [192.0.2.25]) by mx.shop.example"
        f" (Postfix) with ESMTPS id 4dC{mid_token(mid)} for <{SHOP}>; {date}"
    )
    for name, value in top:
        m[name] = value
    m["From"] = frm
    m["To"] = to
    if subject is not None:
        m["Subject"] = subject
    m["Date"] = date
    m["Message-ID"] = mid
    if irt:
        m["In-Reply-To"] = irt
    if refs:
        m["References"] = " ".join(refs)
    for name, value in extra:
        m[name] = value
    return m


def mime_last(m):
    """Move the MIME headers a constructor put first behind the others."""
    for name in ("MIME-Version", "Content-Type", "Content-Transfer-Encoding"):
        values = m.get_all(name, [])
        del m[name]
        for value in values:
            m[name] = value
    return m


def subpart(part):
    """email.mime puts MIME-Version on every part; mailers put it on the top only."""
    del part["MIME-Version"]
    return part


def mid_token(mid: str) -> str:
    return hashlib.sha256(mid.encode()).hexdigest()[:10].upper()


def legacy_from(name: str, addr: str, cs=ISO2022JP) -> str:
    return email.utils.formataddr((name, addr), charset=cs)


def legacy_text(label, data: bytes, cte: str, subtype="plain"):
    """A text part from already encoded bytes, with a transfer encoding."""
    params = {"charset": label} if label else {}
    part = MIMENonMultipart("text", subtype, policy=LEGACY, **params)
    if cte == "base64":
        data = data.replace(b"\n", b"\r\n")  # canonical CRLF inside the encoding
    part.set_payload(data)
    {
        "base64": email.encoders.encode_base64,
        "quoted-printable": email.encoders.encode_quopri,
        "7bit": email.encoders.encode_7or8bit,
        "8bit": email.encoders.encode_7or8bit,
    }[cte](part)
    return part


def legacy_message(label, data, cte, *, frm, subject, date, mid, **kw):
    """A single-part legacy message: headers first, then MIME headers."""
    m = legacy_text(label, data, cte)
    head(m, frm, subject, date, mid, **kw)
    return mime_last(m)


def modern_message(text, *, frm, subject, date, mid, cte=None, subtype="plain", charset_="utf-8", **kw):
    m = EmailMessage(policy=MODERN)
    head(m, frm, subject, date, mid, **kw)
    if text is not None:
        m.set_content(text, subtype=subtype, charset=charset_, cte=cte)
    return m


def fake_jpeg(seed: str, size: int) -> bytes:
    """JPEG-looking bytes (SOI, JFIF APP0, COM, filler, EOI), same every run."""
    app0 = b"JFIF\x00" + struct.pack(">BBBHHBB", 1, 1, 0, 72, 72, 0, 0)
    com = f"madoguchi test corpus: {seed}".encode()
    out = b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
    out += b"\xff\xfe" + struct.pack(">H", len(com) + 2) + com
    filler = b""
    counter = 0
    while len(out) + len(filler) < size - 2:
        filler += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return out + filler[: size - 2 - len(out)] + b"\xff\xd9"


def set_boundaries(m, boundaries):
    """Give every multipart a fixed boundary (email.generator picks random ones)."""
    parts = [p for p in m.walk() if p.is_multipart()]
    assert len(parts) <= len(boundaries), (len(parts), boundaries)
    for part, boundary in zip(parts, boundaries):
        part.set_boundary(boundary)
    return m


def flatten(m, policy) -> bytes:
    buf = io.BytesIO()
    BytesGenerator(buf, mangle_from_=False, policy=policy).flatten(m)
    return buf.getvalue()


def E(file, outcome="process", suppressed_by=None, topic="none", from_=None, subject=None,
      text_contains=(), text_excludes=(), original_contains=(), attachments=(),
      in_reply_to=None, references=(), bounced_message_id=None, bounced_recipient=None,
      verified_sender=False):
    return {
        "file": file,
        "outcome": outcome,
        "suppressed_by": suppressed_by,
        "topic": topic,
        "from": from_,
        "subject": subject,
        "text_contains": list(text_contains),
        "text_excludes": list(text_excludes),
        "original_contains": list(original_contains),
        "attachments": [dict(a) for a in attachments],
        "in_reply_to": in_reply_to,
        "references": list(references),
        "bounced_message_id": bounced_message_id,
        "bounced_recipient": bounced_recipient,
        "verified_sender": verified_sender,
    }


CORPUS = []  # (file name, bytes, expected)


def add(name, data, **expected):
    file = f"{name}.eml"
    CORPUS.append((file, data, E(file, **expected)))


# Our earlier replies, quoted or forwarded back by customers.
OUR_SHIPPING_JA = "送料は全国一律550円（税込）です。5,000円以上のご注文で送料無料になります。"
OUR_RETURNS_JA = "返品をご希望の場合は、商品到着後8日以内にマイページの「返品申請」からお手続きください。"


# --- Japanese charsets ----------------------------------------------------


def ja_charsets():
    text = """ひなた雑貨店 様

はじめて注文を検討している山田と申します。
波佐見焼のマグカップを2個と木製のトレーを1枚買いたいのですが、
北海道（札幌市）まで送っていただく場合、送料はいくらになりますか。
また、まとめて注文すると送料が安くなることはありますか。

よろしくお願いいたします。
山田 太郎
"""
    m = legacy_message(
        "iso-2022-jp", text.encode("iso2022_jp"), "7bit",
        frm=legacy_from("山田 太郎", "taro@example.jp"),
        subject=Header("送料について", ISO2022JP),
        date="Mon, 17 Nov 2025 09:30:12 +0900",
        mid="<20251117093012.4F2A.TARO@example.jp>",
        extra=[("X-Mailer", "Becky! ver. 2.81.05")],
    )
    add("ja_iso2022jp_shipping", flatten(m, LEGACY), topic="shipping", from_="taro@example.jp",
        subject="送料について", text_contains=["送料はいくらになりますか", "北海道（札幌市）"])

    text = """ひなた雑貨店 様

11月10日に届いたリネンのエプロン（生成り）ですが、
着けてみたところ思っていたより丈が長かったので返品したいです。
タグは付けたままで、袋からも一度出しただけです。
返品の手順を教えていただけますか。

佐々木
"""
    m = legacy_message(
        None, text.encode("iso2022_jp"), "7bit",
        frm=legacy_from("佐々木 美咲", "misaki.sasaki@example.ne.jp"),
        subject=Header("返品したいのですが", ISO2022JP),
        date="Mon, 17 Nov 2025 10:02:47 +0900",
        mid="<202511171002.AB12CD34@mail.example.ne.jp>",
    )
    add("ja_iso2022jp_nocharset_returns", flatten(m, LEGACY), topic="returns",
        from_="misaki.sasaki@example.ne.jp", subject="返品したいのですが",
        text_contains=["返品したいです", "リネンのエプロン"])

    text = """ひなた雑貨店 御中

㈱みなと企画 総務部の小林です。
来月の社内イベントで配る記念品として、下記の注文を検討しています。

① アロマキャンドルⅢ（ラベンダー） 30個
② リネンのコースター 30枚

届け先は東京都港区の弊社1か所です。
この場合の送料はいくらになりますか。
請求書払いが可能かどうかもあわせて教えてください。

小林 誠
"""
    m = legacy_message(
        "iso-2022-jp", cp50220_encode(text), "7bit",
        frm=legacy_from("小林 誠", "makoto.kobayashi@minato-kikaku.example.jp"),
        subject=encoded_words("【㈱みなと企画】アロマキャンドルⅢの送料について①", "ISO-2022-JP", cp50220_encode),
        date="Mon, 17 Nov 2025 11:15:40 +0900",
        mid="<000001dc5761$1a2b3c40$4e5f6a70$@minato-kikaku.example.jp>",
        extra=[("X-Mailer", "Microsoft Outlook 16.0")],
    )
    add("ja_cp50220_shipping", flatten(m, LEGACY), topic="shipping",
        from_="makoto.kobayashi@minato-kikaku.example.jp",
        subject="【㈱みなと企画】アロマキャンドルⅢの送料について①",
        text_contains=["送料はいくらになりますか", "① アロマキャンドルⅢ（ラベンダー）", "㈱みなと企画"],
        original_contains=["①", "②", "㈱", "Ⅲ"])

    ms = charset("iso-2022-jp-ms")
    text = """ひなた雑貨店 様

㈲高橋デザイン室の高橋です。
先週届いた以下の2点のうち、②を返品したいと考えています。

① 手ぬぐい（麻の葉） 3枚
② ガラスの花瓶 Ⅱ型 1個

花瓶そのものに問題はないのですが、事務所の棚に置くには大きすぎました。
未使用で箱も残っています。返品の送り先と、返金の時期を教えてください。

高橋 直子
"""
    m = legacy_message(
        "iso-2022-jp-ms", cp50220_encode(text), "7bit",
        frm=legacy_from("高橋 直子", "naoko.t@example.co.jp"),
        subject=Header("注文商品①②のうち②の返品について", ms),
        date="Mon, 17 Nov 2025 13:20:05 +0900",
        mid="<5F2A1C0E.7080409@example.co.jp>",
    )
    add("ja_iso2022jp_ms_returns", flatten(m, LEGACY), topic="returns", from_="naoko.t@example.co.jp",
        subject="注文商品①②のうち②の返品について",
        text_contains=["②を返品したいと考えています", "㈲高橋デザイン室", "② ガラスの花瓶 Ⅱ型 1個"],
        original_contains=["①", "㈲", "Ⅱ"])

    cp = charset("cp50220")
    text = """ひなた雑貨店 様

いつもお世話になっております。㈱北斗商会の石井です。
社内の贈答用にまとめて注文したい件で、メールではやり取りが難しいため、
一度お電話で担当者と話したいです。

・候補日時　① 11月20日(木) 14時以降　② 11月21日(金) 午前中
・品目　　　アロマキャンドルⅢ ほか数点

ご都合を教えていただけますと幸いです。

石井 恭子
"""
    m = legacy_message(
        "cp50220", cp50220_encode(text), "7bit",
        frm=legacy_from("石井 恭子", "k.ishii@hokuto-shokai.example.jp"),
        subject=Header("担当者の方とお話ししたいです（㈱北斗商会）", cp),
        date="Mon, 17 Nov 2025 15:48:33 +0900",
        mid="<20251117154833.77E1@hokuto-shokai.example.jp>",
    )
    add("ja_cp50220_label_human", flatten(m, LEGACY), topic="human",
        from_="k.ishii@hokuto-shokai.example.jp", subject="担当者の方とお話ししたいです（㈱北斗商会）",
        text_contains=["担当者と話したいです", "㈱北斗商会", "アロマキャンドルⅢ", "① 11月20日(木)"],
        original_contains=["①", "㈱", "Ⅲ"])

    text = """ﾋﾅﾀ雑貨店さま

ﾏｸﾞｶｯﾌﾟとｿｰｻｰのｾｯﾄを2組注文したいです。
京都市までの送料はいくらですか。
ﾗｯﾋﾟﾝｸﾞもお願いできますか。

木村
"""
    m = legacy_message(
        "ISO-2022-JP", text.encode("iso2022_jp_ext"), "7bit",
        frm=legacy_from("木村 洋", "kimura.h@example.ne.jp"),
        subject=encoded_words("ｾｯﾄ商品の送料について", "ISO-2022-JP", lambda t: t.encode("iso2022_jp_ext")),
        date="Mon, 17 Nov 2025 16:05:19 +0900",
        mid="<20251117160519.K1MURA@example.ne.jp>",
    )
    add("ja_iso2022jp_ext_hankaku_shipping", flatten(m, LEGACY), topic="shipping",
        from_="kimura.h@example.ne.jp", subject="ｾｯﾄ商品の送料について",
        text_contains=["京都市までの送料はいくらですか"],
        original_contains=["ﾏｸﾞｶｯﾌﾟとｿｰｻｰのｾｯﾄ", "ﾗｯﾋﾟﾝｸﾞ"])

    jp2 = charset("ISO-2022-JP-2")
    text = """ひなた雑貨店 様

フランス製の石けん「Savon Crème de Lavande」を3個購入した森です。
香りが強すぎて家族が使えなかったため、未開封の2個だけ返品したいのですが、
可能でしょうか。

森 由紀
"""
    m = legacy_message(
        "ISO-2022-JP-2", text.encode("iso2022_jp_2"), "7bit",
        frm=legacy_from("森 由紀", "yuki.mori@example.jp", jp2),
        subject=Header("返品の相談（Crème de Lavande）", jp2),
        date="Mon, 17 Nov 2025 17:31:02 +0900",
        mid="<87h6c2x0qz.fsf@example.jp>",
        extra=[("User-Agent", "Gnus/5.13 (Gnus v5.13)")],
    )
    add("ja_iso2022jp_2_returns", flatten(m, LEGACY), topic="returns", from_="yuki.mori@example.jp",
        subject="返品の相談（Crème de Lavande）",
        text_contains=["返品したいのですが", "Savon Crème de Lavande"])

    sjis = charset("Shift_JIS")
    text = """こんにちは。
土鍋（8号）を沖縄県那覇市に送ってもらいたいのですが、
沖縄・離島は送料が別料金と書いてありました。
具体的にいくらかかるのか教えてください。
代引きにした場合の手数料も知りたいです。

中村
"""
    m = legacy_message(
        "Shift_JIS", text.encode("shift_jis"), "8bit",
        frm=legacy_from("中村 優子", "yuko.nakamura@example.jp", sjis),
        subject=Header("沖縄への送料を教えてください", sjis),
        date="Tue, 18 Nov 2025 08:12:55 +0900",
        mid="<20251118081255.0000A1B2@example.jp>",
    )
    add("ja_shift_jis_8bit_shipping", flatten(m, LEGACY), topic="shipping",
        from_="yuko.nakamura@example.jp", subject="沖縄への送料を教えてください",
        text_contains=["沖縄・離島は送料が別料金", "土鍋（8号）"])

    w31j = charset("windows-31j", header="Q")
    text = """ひなた雑貨店 様

11月11日に注文確認メールへの返信で問い合わせをしましたが、
一週間たってもまったく返信がありません。

届いた急須はふたの縁が欠けていて、とても使える状態ではありませんでした。
① 交換してもらえるのか
② できないなら返金してもらえるのか
せめてどちらなのかだけでも早急に連絡をください。

松本
"""
    m = legacy_message(
        "windows-31j", text.encode("cp932"), "quoted-printable",
        frm=legacy_from("松本 健一", "kenichi.matsumoto@example.ne.jp", w31j),
        subject=Header("【至急】一週間たっても返信がありません", w31j),
        date="Tue, 18 Nov 2025 09:40:21 +0900",
        mid="<20251118094021.9C3D@example.ne.jp>",
    )
    add("ja_windows31j_qp_complaint", flatten(m, LEGACY), topic="complaint",
        from_="kenichi.matsumoto@example.ne.jp", subject="【至急】一週間たっても返信がありません",
        text_contains=["まったく返信がありません", "ふたの縁が欠けていて", "① 交換してもらえるのか"])

    c932 = charset("cp932")
    text = """ひなた雑貨店 様

㈱ふじた工房の藤田と申します。
取引先の開店祝いにお皿をまとめて贈りたいのですが、
名入れの可否や納期など確認したいことが多いので、
メールではなく担当者と電話で話したいです。

① 平日10時から17時であればいつでも大丈夫です。
② 連絡先は代表番号ではなく、このメールアドレスへの返信でお願いします。

藤田
"""
    m = legacy_message(
        "cp932", text.encode("cp932"), "base64",
        frm=legacy_from("藤田 亮", "fujita@fujita-kobo.example.co.jp", c932),
        subject=Header("電話で相談できますか（㈱ふじた工房）", c932),
        date="Tue, 18 Nov 2025 10:55:08 +0900",
        mid="<000a01dc5822$b1c2d3e4$f5a6b7c8$@fujita-kobo.example.co.jp>",
    )
    add("ja_cp932_base64_human", flatten(m, LEGACY), topic="human",
        from_="fujita@fujita-kobo.example.co.jp", subject="電話で相談できますか（㈱ふじた工房）",
        text_contains=["担当者と電話で話したいです", "㈱ふじた工房", "① 平日10時から17時"])

    euc = charset("EUC-JP")
    text = """ひなた雑貨店 様

先日ガラスのタンブラーを2個購入した井上です。
色違いで注文してしまったことに気づきました。
まだ箱を開けていないのですが、返品はできますか。
できる場合、どのように手続きすればよいか教えてください。

井上 さくら
"""
    m = legacy_message(
        "EUC-JP", text.encode("euc_jp"), "base64",
        frm=legacy_from("井上 さくら", "sakura.inoue@example.jp", euc),
        subject=Header("返品の方法を教えてください", euc),
        date="Tue, 18 Nov 2025 12:03:44 +0900",
        mid="<20251118120344.3E8F.SAKURA@example.jp>",
    )
    add("ja_euc_jp_base64_returns", flatten(m, LEGACY), topic="returns",
        from_="sakura.inoue@example.jp", subject="返品の方法を教えてください",
        text_contains=["返品はできますか", "ガラスのタンブラー"])


# --- UTF-8, HTML, attachments ----------------------------------------------


def utf8_html_attachments():
    text = """Hi,

I'd like to order two of the Hasami porcelain mugs and a linen apron.
How much does shipping to Vancouver, Canada cost, and roughly how long
does it take to arrive? I couldn't find international rates on the site.

Thanks,
Olivia
"""
    m = modern_message(
        text, frm="Olivia Bennett <olivia.bennett@example.com>", subject="Shipping cost to Canada?",
        date="Sun, 16 Nov 2025 22:41:09 -0800",
        mid="<CAOx9vRk2mB7Qz4Lw1nH8sT3pJ6yE5dG0cF2aU9iK7rV1oW4x8Q@mail.gmail.com>",
    )
    add("en_utf8_shipping", flatten(m, MODERN), topic="shipping", from_="olivia.bennett@example.com",
        subject="Shipping cost to Canada?",
        text_contains=["How much does shipping to Vancouver, Canada cost"])

    text = """ひなた雑貨店 サポート様

先ほど問い合わせたところ自動返信のメールが届きましたが、
こちらの状況が少し複雑なので、担当者と話したいです。
（贈り物として別の住所に送った商品の宛名を間違えてしまいました）
折り返しのご連絡をお願いできますか。

大野 恵
"""
    m = modern_message(
        text, frm="大野 恵 <megumi.ono@example.jp>", subject="担当者と話したいです",
        date="Tue, 18 Nov 2025 13:27:36 +0900",
        mid="<CAHd7pQm4nX0vR2sT8kL1wY6zB3cJ9eF5gA0uI7oP2qN4rM6tS1@mail.gmail.com>", cte="base64",
    )
    add("ja_utf8_base64_human", flatten(m, MODERN), topic="human", from_="megumi.ono@example.jp",
        subject="担当者と話したいです",
        text_contains=["担当者と話したいです", "宛名を間違えてしまいました"])

    page = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<style type="text/css">body{font-family:"Hiragino Sans",sans-serif;color:#333}p{margin:0 0 1em}</style>
<script type="text/javascript">window.trackOpen && window.trackOpen("hz-1183");</script>
</head><body>
<p>ひなた雑貨店 様</p>
<p>「Tea &amp; Coffee ギフトセット」を台湾の友人に送りたいと考えています。<br>
台湾までの送料はいくらになりますか？<br>
関税がかかる場合は、受取人の負担になりますか。</p>
<p>陳 美玲</p>
</body></html>
"""
    m = modern_message(
        page, subtype="html", frm="陳 美玲 <meiling.chen@example.com.tw>",
        subject="台湾への配送と送料について", date="Tue, 18 Nov 2025 14:10:51 +0800",
        mid="<1731910251.482913.1025@webmail.example.com.tw>", cte="quoted-printable",
    )
    add("ja_html_only_shipping", flatten(m, MODERN), topic="shipping",
        from_="meiling.chen@example.com.tw", subject="台湾への配送と送料について",
        text_contains=["「Tea & Coffee ギフトセット」", "台湾までの送料はいくらになりますか"],
        text_excludes=["trackOpen", "font-family", "<br>", "<p>", "&amp;"],
        original_contains=["台湾までの送料"])

    text = """Hello,

I wrote to you last Tuesday about order HZ-20251031-077 and have had no
reply in a week. The cast iron teapot arrived with the lid cracked in two
and the box completely crushed.

This is not acceptable. I want a replacement or a full refund, and I want
an answer this time.

Daniel Ortiz
"""
    page = """<div dir="ltr"><p>Hello,</p>
<p>I wrote to you last Tuesday about order HZ-20251031-077 and have had no
reply in a week. The cast iron teapot arrived with the lid <b>cracked in two</b>
and the box completely crushed.</p>
<p>This is not acceptable. I want a replacement or a full refund, and I want
an answer this time.</p>
<p>Daniel Ortiz</p></div>
"""
    m = modern_message(
        text, frm="Daniel Ortiz <d.ortiz@example.org>", subject="Broken teapot and still no reply",
        date="Tue, 18 Nov 2025 07:58:12 +0000",
        mid="<CAEr3kTn8bV5qL2xZ7mW0cY4hJ1sD9gF6aP3uK8oR5iN2tQ7vB0@mail.gmail.com>",
    )
    m.add_alternative(page, subtype="html")
    set_boundaries(m, ["000000000000e4a1b20643d1f0a7"])
    add("en_alternative_complaint", flatten(m, MODERN), topic="complaint",
        from_="d.ortiz@example.org", subject="Broken teapot and still no reply",
        text_contains=["arrived with the lid cracked in two", "This is not acceptable."])

    # A Japanese mailer: ISO-2022-JP text, photo with an RFC 2231 filename.
    text = """ひなた雑貨店 様

本日届いた波佐見焼の大皿が、箱を開けたら真っ二つに割れていました。
緩衝材もほとんど入っておらず、梱包に問題があったのではと思います。
写真を添付しますので確認してください。
誕生日の贈り物にするつもりだったので、とても残念です。
至急対応をお願いします。

岡田 里奈
"""
    photo = fake_jpeg("broken platter", 640)
    m = MIMEMultipart("mixed", boundary="------------B4D7E2A90C1F3E5A6B8D0F21", policy=LEGACY)
    head(m, legacy_from("岡田 里奈", "rina.okada@example.jp"), Header("商品が割れて届きました", ISO2022JP),
         "Tue, 18 Nov 2025 18:22:30 +0900", "<3b9e5f2a-7c41-4d8e-a0b6-2f1c9d7e4a53@example.jp>",
         extra=[("User-Agent", "Mozilla Thunderbird")])
    mime_last(m)
    m.attach(subpart(legacy_text("iso-2022-jp", text.encode("iso2022_jp"), "7bit")))
    img = MIMEBase("image", "jpeg", policy=LEGACY)
    img.set_payload(photo)
    email.encoders.encode_base64(img)
    img.add_header("Content-Disposition", "attachment", filename=("UTF-8", "", "破損.jpg"))
    m.attach(subpart(img))
    add("ja_mixed_photo_rfc2231_complaint", flatten(m, LEGACY), topic="complaint",
        from_="rina.okada@example.jp", subject="商品が割れて届きました",
        text_contains=["真っ二つに割れていました", "至急対応をお願いします"],
        attachments=[{"name": "破損.jpg", "content_type": "image/jpeg", "size": len(photo)}])

    # Another one: two photos, RFC 2047 encoded-words inside quoted filename/name.
    text = """ひなた雑貨店 様

11月15日に届いたマグカップ2個のうち1個の飲み口が欠けていました。
箱の角もつぶれていたので、配送中にぶつけられたのかもしれません。
写真を2枚添付します。
このままでは使えないので、どう対応していただけるのか連絡をください。

吉田
"""
    photos = [("欠けたマグカップ.jpg", fake_jpeg("chipped mug", 512)),
              ("箱の外側.jpg", fake_jpeg("crushed box", 448))]
    m = MIMEMultipart("mixed", boundary="----=_NextPart_000_0012_01DC5855.9F2B1C40", policy=LEGACY)
    head(m, legacy_from("吉田 健", "yoshida.k@example.ne.jp"),
         Header("届いたマグカップが欠けています（写真あり）", ISO2022JP),
         "Tue, 18 Nov 2025 20:47:15 +0900", "<000001dc5855$9f2b1c40$dd815450$@example.ne.jp>",
         extra=[("X-Mailer", "Microsoft Outlook 16.0")])
    mime_last(m)
    m.attach(subpart(legacy_text("iso-2022-jp", text.encode("iso2022_jp"), "7bit")))
    for name, data in photos:
        encoded_name = Header(name, ISO2022JP).encode()
        assert "\n" not in encoded_name
        img = MIMEBase("image", "jpeg", name=encoded_name, policy=LEGACY)
        img.set_payload(data)
        email.encoders.encode_base64(img)
        img.add_header("Content-Disposition", "attachment", filename=encoded_name)
        m.attach(subpart(img))
    add("ja_mixed_photo_rfc2047_complaint", flatten(m, LEGACY), topic="complaint",
        from_="yoshida.k@example.ne.jp", subject="届いたマグカップが欠けています（写真あり）",
        text_contains=["飲み口が欠けていました", "どう対応していただけるのか連絡をください"],
        attachments=[{"name": n, "content_type": "image/jpeg", "size": len(d)} for n, d in photos])


# --- forwards, replies, signatures ---------------------------------------------


def forwards_and_replies():
    text = """Hi, I'd like to return the linen apron from the order below (it's the
wrong size). How do I send it back?

Sophie

---------- Forwarded message ---------
From: Hinata Zakka <support@shop.example>
Date: Sat, 8 Nov 2025 at 11:20
Subject: Your order HZ-20251108-203 has shipped
To: <sophie.laurent@example.com>


Thank you for your order. Your parcel is on its way.

Order: HZ-20251108-203
Items: Linen apron (natural, M) x1, Tenugui towel (asanoha) x2
Tracking number: JP88213
"""
    m = modern_message(
        text, frm="Sophie Laurent <sophie.laurent@example.com>",
        subject="Fwd: Your order HZ-20251108-203 has shipped",
        date="Tue, 18 Nov 2025 19:05:44 +0100",
        mid="<CAB2xJk9mQ4vT7nR1sL8wZ3cY6hD0gE5aF2pU9iO7rK1tV4bN8M@mail.gmail.com>",
    )
    add("en_forward_gmail_returns", flatten(m, MODERN), topic="returns",
        from_="sophie.laurent@example.com", subject="Fwd: Your order HZ-20251108-203 has shipped",
        text_contains=["I'd like to return the linen apron", "How do I send it back?"],
        text_excludes=["Your parcel is on its way.", "Tracking number: JP88213"],
        original_contains=["---------- Forwarded message ---------", "Your parcel is on its way."])

    text = f"""母に頼まれて代わりに注文しようとしている者です。
以下の返信をいただいたのですが、離島（佐渡島）の場合の送料が書かれていませんでした。
佐渡島まではいくらになりますか。

清水


-------- 転送メッセージ --------
件名: \tRe: 送料について
日付: \tFri, 14 Nov 2025 16:41:09 +0900
差出人: \t{SHOP_JA} <{SHOP}>
宛先: \t清水 大輔 <daisuke.shimizu@example.jp>



清水 様

お問い合わせありがとうございます。
{OUR_SHIPPING_JA}

{SHOP_JA}
"""
    m = modern_message(
        text, frm="清水 大輔 <daisuke.shimizu@example.jp>", subject="Fwd: Re: 送料について",
        date="Wed, 19 Nov 2025 08:30:00 +0900", cte="8bit",
        mid="<6c1f0e3b-2d8a-4b7e-9f51-3a0c7e2d9b14@example.jp>",
        extra=[("User-Agent", "Mozilla Thunderbird")],
    )
    m.set_param("format", "flowed")
    add("ja_forward_tensou_shipping", flatten(m, MODERN), topic="shipping",
        from_="daisuke.shimizu@example.jp", subject="Fwd: Re: 送料について",
        text_contains=["佐渡島まではいくらになりますか"],
        text_excludes=["送料は全国一律550円（税込）です。"],
        original_contains=["-------- 転送メッセージ --------", "送料は全国一律550円（税込）です。"])

    olivia_first = "<CAOx9vRk2mB7Qz4Lw1nH8sT3pJ6yE5dG0cF2aU9iK7rV1oW4x8Q@mail.gmail.com>"
    text = f"""Thanks, but that doesn't answer my question about customs fees. Could I
speak to a real person about this, please? A phone call is fine.

Olivia

On Mon, 17 Nov 2025 at 14:06, {SHOP_EN} <{SHOP}> wrote:

> Hello Olivia,
>
> Shipping to Canada is calculated at checkout from the parcel's weight.
> Two mugs and an apron usually come to about 2,800 yen by EMS.
>
> {SHOP_EN}
"""
    m = modern_message(
        text, frm="Olivia Bennett <olivia.bennett@example.com>", subject="Re: Shipping cost to Canada?",
        date="Mon, 17 Nov 2025 09:12:03 -0800",
        mid="<CAOx9vRnT4kW8pQ1zL6mB3sY0cH7jD2gF9aE5uK1iR8oV3tN6xA@mail.gmail.com>",
        irt="<mdg.r.5c1e70a2@shop.example>", refs=[olivia_first, "<mdg.r.5c1e70a2@shop.example>"],
    )
    add("en_reply_gmail_human", flatten(m, MODERN), topic="human", from_="olivia.bennett@example.com",
        subject="Re: Shipping cost to Canada?",
        text_contains=["speak to a real person about this"],
        text_excludes=["Shipping to Canada is calculated at checkout", "about 2,800 yen by EMS"],
        original_contains=["Shipping to Canada is calculated at checkout"],
        in_reply_to="<mdg.r.5c1e70a2@shop.example>",
        references=[olivia_first, "<mdg.r.5c1e70a2@shop.example>"])

    # A thread of three from one customer (Gmail, Japanese).
    kato = "加藤 千尋 <chihiro.kato@example.jp>"
    t1 = "<CAK4mZp1qR7vT2nW8sL5xB0cY3hJ6dG9eF1aU4iO7rK2tV5bN8Q@mail.gmail.com>"
    t2 = "<CAK4mZp3wE9rT5yU1iO7pA2sD4fG6hJ8kL0zX3cV5bN7mQ1wE4R@mail.gmail.com>"
    t3 = "<CAK4mZp6tY8uI0oP2aS4dF6gH8jK0lZ2xC4vB6nM8qW0eR2tY5U@mail.gmail.com>"
    r1, r2 = "<mdg.r.3f9a0d11@shop.example>", "<mdg.r.41c07e5b@shop.example>"
    text = """ひなた雑貨店 様

木製のトレー（大）を注文した加藤です。
届いたものを使ってみたのですが、思っていたより重かったので返品したいです。
返品の方法を教えてください。

加藤 千尋
"""
    m = modern_message(text, frm=kato, subject="返品について", date="Mon, 17 Nov 2025 12:40:18 +0900",
                       mid=t1, cte="base64")
    m.set_param("format", "flowed")
    add("ja_thread_1_returns", flatten(m, MODERN), topic="returns", from_="chihiro.kato@example.jp",
        subject="返品について", text_contains=["重かったので返品したいです"])

    text2 = """ご返信ありがとうございます。
マイページから返品申請をしようとしたのですが、注文履歴に「返品申請」のボタンが表示されません。
注文番号は HZ-20251109-154 です。ほかに手続きの方法はありますか。

加藤
"""
    quoted1 = f"""加藤 様

お問い合わせありがとうございます。
{OUR_RETURNS_JA}

{SHOP_JA}
"""
    text = text2 + f"\n2025年11月17日(月) 14:06 {SHOP_JA} <{SHOP}>:\n\n" + quote(quoted1)
    m = modern_message(text, frm=kato, subject="Re: 返品について", date="Mon, 17 Nov 2025 18:30:52 +0900",
                       mid=t2, irt=r1, refs=[t1, r1], cte="base64")
    add("ja_thread_2_reply_gmail_returns", flatten(m, MODERN), topic="returns",
        from_="chihiro.kato@example.jp", subject="Re: 返品について",
        text_contains=["ボタンが表示されません", "ほかに手続きの方法はありますか"],
        text_excludes=["商品到着後8日以内に", "お問い合わせありがとうございます。"],
        original_contains=["商品到着後8日以内に"], in_reply_to=r1, references=[t1, r1])

    quoted2 = f"""加藤 様

ご不便をおかけして申し訳ありません。
配送完了から24時間は「返品申請」のボタンが表示されない仕様となっております。
明日以降にもう一度お試しください。

{SHOP_JA}

2025年11月17日(月) 18:30 {kato}:

""" + quote(text2)
    text = """返品の手続きができました。ありがとうございます。
トレーは明日コンビニから発送します。返金はいつごろになりますか。

加藤
""" + f"\n2025年11月18日(火) 10:02 {SHOP_JA} <{SHOP}>:\n\n" + quote(quoted2)
    m = modern_message(text, frm=kato, subject="Re: 返品について", date="Tue, 18 Nov 2025 21:14:07 +0900",
                       mid=t3, irt=r2, refs=[t1, r1, t2, r2], cte="base64")
    add("ja_thread_3_reply_gmail_returns", flatten(m, MODERN), topic="returns",
        from_="chihiro.kato@example.jp", subject="Re: 返品について",
        text_contains=["返金はいつごろになりますか"],
        text_excludes=["配送完了から24時間", "ボタンが表示されません"],
        original_contains=["配送完了から24時間", "ボタンが表示されません"],
        in_reply_to=r2, references=[t1, r1, t2, r2])

    # Outlook, English, multipart/alternative.
    # Short enough for References to fold between ids: Python's email package
    # encodes a token longer than a line (RFC 5322 allows no encoded msg-id).
    priya_first = "<AM6PR02MB4471C2E1A9B0D3F5@AM6PR02MB4471.outlook.example>"
    reply = "<mdg.r.9d2e4410@shop.example>"
    new = """It has now been eight days since I sent you the photos of the broken vase
and I still have not received a replacement or even a reply. Frankly this
is very poor service. Please sort this out today.

Priya Raman
"""
    quoted = f"""Dear Priya,

We are very sorry that your glass vase arrived damaged. Could you send us a
photo of the item and the box? We will arrange a replacement as soon as we
receive it.

{SHOP_EN}
"""
    text = new + f"""
________________________________
From: {SHOP_EN} <{SHOP}>
Sent: Monday, November 10, 2025 9:15 AM
To: Priya Raman <priya.raman@example.co.uk>
Subject: Re: Order HZ-20251029-031 - damaged vase

""" + quoted
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>'
        '<div style="font-family: Aptos, Calibri, sans-serif; font-size: 12pt;">'
        + "".join(f"<p>{line}</p>" for line in new.strip().split("\n\n"))
        + '</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">'
        f'<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> {SHOP_EN} &lt;{SHOP}&gt;<br>'
        "<b>Sent:</b> Monday, November 10, 2025 9:15 AM<br>"
        "<b>To:</b> Priya Raman &lt;priya.raman@example.co.uk&gt;<br>"
        "<b>Subject:</b> Re: Order HZ-20251029-031 - damaged vase</div>"
        + "".join(f"<p>{line}</p>" for line in quoted.strip().split("\n\n"))
        + "</body></html>\n"
    )
    m = modern_message(
        text, frm="Priya Raman <priya.raman@example.co.uk>",
        subject="RE: Order HZ-20251029-031 - damaged vase", date="Tue, 18 Nov 2025 10:31:27 +0000",
        mid="<AM6PR02MB44718E3F1C0A2B4D6E8F9A0B1C2D@AM6PR02MB4471.eurprd02.prod.outlook.example>",
        irt=reply, refs=[priya_first, reply], cte="quoted-printable",
        extra=[("Thread-Topic", "Order HZ-20251029-031 - damaged vase"),
               ("Thread-Index", "AQHcUkYq7b3e9kT2R0aX1mZ8pL4nWgAAAbCD"),
               ("Content-Language", "en-GB"), ("X-MS-Has-Attach", "")],
    )
    m.add_alternative(page, subtype="html", cte="quoted-printable")
    set_boundaries(m, ["_000_AM6PR02MB44718E3F1C0A2B4D6E8F9A0B1C2DAM6PR02MB4471eurp_"])
    add("en_reply_outlook_complaint", flatten(m, MODERN), topic="complaint",
        from_="priya.raman@example.co.uk", subject="RE: Order HZ-20251029-031 - damaged vase",
        text_contains=["very poor service", "still have not received a replacement"],
        text_excludes=["We are very sorry that your glass vase arrived damaged", "Sent: Monday, November 10, 2025"],
        original_contains=["We are very sorry that your glass vase arrived damaged"],
        in_reply_to=reply, references=[priya_first, reply])

    # Outlook, Japanese, ISO-2022-JP plain text.
    first = "<TYAPR01MB5866A1B2C3D4E5F6A7B8C9D0E1F2@TYAPR01MB5866.jpnprd01.prod.outlook.example>"
    reply = "<mdg.r.6b7f2a90@shop.example>"
    text = f"""ひなた雑貨店
サポート窓口 様

ご回答ありがとうございます。
ただ、名入れの書体や配置について細かく相談したいので、
一度担当者と話したいです。お電話をいただくことは可能でしょうか。

渡辺

________________________________
差出人: {SHOP_JA} <{SHOP}>
送信日時: 2025年11月17日 15:22
宛先: 渡辺 裕子 <yuko.watanabe@example.co.jp>
件名: Re: 名入れのご相談

渡辺 様

お問い合わせありがとうございます。
名入れは1個あたり440円で、ご注文から発送まで10営業日ほどいただいております。

{SHOP_JA}
"""
    m = legacy_message(
        "iso-2022-jp", text.encode("iso2022_jp"), "7bit",
        frm=legacy_from("渡辺 裕子", "yuko.watanabe@example.co.jp"),
        subject=Header("RE: 名入れのご相談", ISO2022JP), date="Tue, 18 Nov 2025 11:48:19 +0900",
        mid="<TYAPR01MB58669F8E7D6C5B4A3F2E1D0C9B8A@TYAPR01MB5866.jpnprd01.prod.outlook.example>",
        irt=reply, refs=[first, reply],
        extra=[("Thread-Topic", Header("名入れのご相談", ISO2022JP)),
               ("Thread-Index", "AQHcV5xK3m8pR1tZ0UeB7wQ4sN2yLgAAB9Kx"), ("Content-Language", "ja-JP")],
    )
    add("ja_reply_outlook_human", flatten(m, LEGACY), topic="human",
        from_="yuko.watanabe@example.co.jp", subject="RE: 名入れのご相談",
        text_contains=["一度担当者と話したいです"],
        text_excludes=["名入れは1個あたり440円", "送信日時: 2025年11月17日 15:22"],
        original_contains=["名入れは1個あたり440円"], in_reply_to=reply, references=[first, reply])

    # Thunderbird, Japanese.
    first = "<b7d2e1f0-4a3c-4e9b-8d71-0c5f2a6e9d33@example.ne.jp>"
    reply = "<mdg.r.1e5b9c33@shop.example>"
    text = f"""ご回答ありがとうございます。
550円とのことですが、2回に分けて注文した場合は送料も2回分かかりますか。
同じ週に届くなら、まとめて送っていただけると助かります。

山田 花子

2025/11/17 14:06 に {SHOP_JA} さんは書きました:
> 山田 様
>
> お問い合わせありがとうございます。
> {OUR_SHIPPING_JA}
>
> {SHOP_JA}
"""
    m = modern_message(
        text, frm="山田 花子 <hanako.yamada@example.ne.jp>", subject="Re: 送料について",
        date="Tue, 18 Nov 2025 16:20:41 +0900", cte="8bit",
        mid="<2f6a9c1e-8b3d-4f70-a5e2-7d9c1b4e6f08@example.ne.jp>", irt=reply, refs=[first, reply],
        extra=[("User-Agent", "Mozilla Thunderbird")],
    )
    m.set_param("format", "flowed")
    add("ja_reply_thunderbird_shipping", flatten(m, MODERN), topic="shipping",
        from_="hanako.yamada@example.ne.jp", subject="Re: 送料について",
        text_contains=["送料も2回分かかりますか"],
        text_excludes=["5,000円以上のご注文で送料無料", "さんは書きました:"],
        original_contains=["5,000円以上のご注文で送料無料"], in_reply_to=reply, references=[first, reply])

    # A signature block with ━ rules.
    text = """ひなた雑貨店 御中

はじめてご連絡いたします。さくら歯科クリニックの佐藤です。
待合室用にリネンのクッションカバーを6枚注文したいのですが、
横浜市への送料はいくらになりますか。
領収書を医院名で発行していただくことは可能でしょうか。

よろしくお願いいたします。

━━━━━━━━━━━━━━━━━━━━
さくら歯科クリニック 受付
佐藤 花子
〒220-0000 神奈川県横浜市西区みなとみらい0-0-0
TEL: 045-000-1234 / FAX: 045-000-1235
━━━━━━━━━━━━━━━━━━━━
"""
    m = legacy_message(
        "iso-2022-jp", text.encode("iso2022_jp"), "7bit",
        frm=legacy_from("佐藤 花子", "uketsuke@sakura-dental.example.jp"),
        subject=Header("クッションカバーの送料について", ISO2022JP), date="Wed, 19 Nov 2025 09:05:33 +0900",
        mid="<20251119090533.5A7C@sakura-dental.example.jp>",
    )
    add("ja_signature_block_shipping", flatten(m, LEGACY), topic="shipping",
        from_="uketsuke@sakura-dental.example.jp", subject="クッションカバーの送料について",
        text_contains=["横浜市への送料はいくらになりますか", "領収書を医院名で"],
        text_excludes=["さくら歯科クリニック 受付", "TEL: 045-000-1234", "━━━━━━━━━━"],
        original_contains=["TEL: 045-000-1234"])

    text = """Hello,

I accidentally placed the same order twice (HZ-20251116-009 and
HZ-20251116-010). Can I return the second set of tenugui towels
unopened, or cancel it before it ships?

Best regards,
Tom

-- 
Tom Fischer
Fischer Design Studio
Tel. +49 30 0000 0000
"""
    m = modern_message(
        text, frm="Tom Fischer <tom@fischer-design.example>", subject="Returning a duplicate order",
        date="Wed, 19 Nov 2025 08:44:10 +0100", mid="<87wmx4k2pz.fsf@fischer-design.example>",
        extra=[("User-Agent", "Mutt/2.2.13 (2024-03-09)")],
    )
    add("en_signature_dashes_returns", flatten(m, MODERN), topic="returns",
        from_="tom@fischer-design.example", subject="Returning a duplicate order",
        text_contains=["Can I return the second set of tenugui towels"],
        text_excludes=["Fischer Design Studio", "Tel. +49 30 0000 0000"],
        original_contains=["Fischer Design Studio"])

    # A client that drops In-Reply-To/References but keeps "Re:".
    sjis = charset("Shift_JIS")
    text = f"""返品の件、了解しました。
本日ゆうパックで返送しました。到着したら連絡をください。
前田

> 前田 様
> {OUR_RETURNS_JA}
> {SHOP_JA}
"""
    m = legacy_message(
        "Shift_JIS", text.encode("shift_jis"), "base64",
        frm=legacy_from("前田 聡", "maeda.s@example.jp", sjis),
        subject=Header("Re: 返品について", sjis), date="Wed, 19 Nov 2025 12:16:58 +0900",
        mid="<20251119121658.2B9E@mobile.example.jp>",
    )
    add("ja_reply_no_headers_returns", flatten(m, LEGACY), topic="returns",
        from_="maeda.s@example.jp", subject="Re: 返品について",
        text_contains=["本日ゆうパックで返送しました"],
        text_excludes=["商品到着後8日以内に"], original_contains=["商品到着後8日以内に"])


def quote(text: str) -> str:
    return "".join(("> " + line if line else ">") + "\n" for line in text.rstrip("\n").split("\n"))


# --- automatic replies and lists (suppressed) ---------------------------------------


def auto_and_lists():
    ours = "<mdg.r.72aa0c19@shop.example>"
    text = """Thank you for your email. I am out of the office until Monday 24 November
with limited access to email. For anything urgent please contact
orders@example.com.

Mark Johnson
"""
    m = modern_message(
        text, frm="Mark Johnson <mark.johnson@example.com>",
        subject="Automatic reply: Re: Your order HZ-20251112-041", date="Tue, 18 Nov 2025 02:14:55 +0000",
        mid="<SN7PR11MB7091A0B1C2D3E4F5@SN7PR11MB7091.namprd11.prod.outlook.example>",
        irt=ours, refs=[ours], extra=[("Auto-Submitted", "auto-replied")],
    )
    add("en_ooo_auto_submitted", flatten(m, MODERN), outcome="suppressed", suppressed_by="auto_submitted",
        from_="mark.johnson@example.com", subject="Automatic reply: Re: Your order HZ-20251112-041",
        text_contains=["out of the office"], in_reply_to=ours, references=[ours])

    text = """【不在通知】

誠に勝手ながら、11月17日から11月21日まで出張のため不在にしております。
期間中にいただいたメールは、11月25日以降に順次確認いたします。
お急ぎの場合は、総務部（somu@example.co.jp）までご連絡ください。

長谷川
"""
    m = modern_message(
        text, frm="長谷川 修 <o.hasegawa@example.co.jp>", subject="自動応答: Re: 送料について",
        date="Tue, 18 Nov 2025 10:07:31 +0900", cte="base64",
        mid="<TYCPR01MB84330C1D2E3F4A5B@TYCPR01MB8433.jpnprd01.prod.outlook.example>",
        top=[("X-Auto-Response-Suppress", "All")],
    )
    add("ja_ooo_x_auto_response_suppress", flatten(m, MODERN), outcome="suppressed",
        suppressed_by="auto_response_suppress", from_="o.hasegawa@example.co.jp",
        subject="自動応答: Re: 送料について", text_contains=["出張のため不在にしております"])

    text = """Hi, I'm away until 1 December and will reply when I'm back.

Laura
"""
    m = modern_message(
        text, frm="Laura Chen <laura.chen@example.net>", subject="Away: Re: Return label",
        date="Tue, 18 Nov 2025 11:30:00 +1100", mid="<20251118003000.A1F2@example.net>",
        extra=[("Precedence", "auto_reply")],
    )
    add("en_ooo_precedence_auto_reply", flatten(m, MODERN), outcome="suppressed", suppressed_by="precedence",
        from_="laura.chen@example.net", subject="Away: Re: Return label", text_contains=["I'm away until"])

    text = """ただいま休暇中のため、メールを確認できません。
11月24日（月）より順次返信いたします。

森田
"""
    m = modern_message(
        text, frm="森田 亜希 <morita@example.ne.jp>", subject="[自動返信] Re: 返品について",
        date="Tue, 18 Nov 2025 12:00:02 +0900", cte="base64", mid="<auto.20251118120002.7731@example.ne.jp>",
        extra=[("X-Autoreply", "yes")],
    )
    add("ja_ooo_x_autoreply", flatten(m, MODERN), outcome="suppressed", suppressed_by="x_autoreply",
        from_="morita@example.ne.jp", subject="[自動返信] Re: 返品について", text_contains=["休暇中"])

    text = """I'm on leave and not reading mail until 2 December. Replies will be slow.

Ben
"""
    m = modern_message(
        text, frm="Ben Carter <ben@example.org>", subject="On leave (Re: Shipping to Australia)",
        date="Tue, 18 Nov 2025 14:45:13 +1000", mid="<vacation-1731905113-4412@example.org>",
        extra=[("X-Autorespond", "Vacation message from Ben Carter")],
    )
    add("en_ooo_x_autorespond", flatten(m, MODERN), outcome="suppressed", suppressed_by="x_autoreply",
        from_="ben@example.org", subject="On leave (Re: Shipping to Australia)", text_contains=["I'm on leave"])

    text = """I am travelling until 21 November without e-mail. Your message has not
been forwarded.

Anna Kowalczyk
"""
    m = modern_message(
        text, frm="Anna Kowalczyk <anna.k@example.pl>", subject="Auto: Re: Your order HZ-20251114-088",
        date="Tue, 18 Nov 2025 06:30:41 +0100", mid="<sieve.1731907841.19@example.pl>",
        rp="<>", irt="<mdg.r.88d1c4e2@shop.example>", extra=[("Auto-Submitted", "auto-replied (vacation)")],
    )
    add("en_vacation_null_sender", flatten(m, MODERN), outcome="suppressed", suppressed_by="null_sender",
        from_="anna.k@example.pl", subject="Auto: Re: Your order HZ-20251114-088",
        text_contains=["I am travelling until 21 November"], in_reply_to="<mdg.r.88d1c4e2@shop.example>")

    text = """Kiln Supply Co. - November news

New this month: matte white glaze in 5 kg tubs, and our winter kiln
maintenance checklist. Orders placed before 12 December arrive before
the New Year holidays.

You receive this because you subscribed at kiln-supply.example.
Unsubscribe: https://kiln-supply.example/u/3f8a2c
"""
    m = modern_message(
        text, frm="Kiln Supply Co. <news@kiln-supply.example>", subject="November news: new glazes",
        date="Tue, 18 Nov 2025 03:00:00 +0000", mid="<news.2025-11.3f8a2c@kiln-supply.example>",
        extra=[("List-Id", "Kiln Supply news <news.kiln-supply.example>"),
               ("List-Unsubscribe", "<mailto:unsubscribe@kiln-supply.example?subject=3f8a2c>, "
                                    "<https://kiln-supply.example/u/3f8a2c>"),
               ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")],
    )
    add("en_list_newsletter", flatten(m, MODERN), outcome="suppressed", suppressed_by="list",
        from_="news@kiln-supply.example", subject="November news: new glazes",
        text_contains=["matte white glaze"])

    text = """雑貨卸しメーリングリストの皆さま

年末年始の出荷スケジュールをお知らせします。
12月27日（土）から1月4日（日）までは出荷をお休みします。
最終出荷日は12月26日（金）の正午受付分までです。

運営事務局
"""
    m = modern_message(
        text, frm="雑貨卸しML事務局 <zakka-oroshi@lists.example.jp>",
        subject="[zakka-oroshi:0412] 年末年始の出荷スケジュール", date="Tue, 18 Nov 2025 09:00:00 +0900",
        cte="base64", mid="<0412.20251118090000@lists.example.jp>",
        extra=[("List-Id", "<zakka-oroshi.lists.example.jp>"),
               ("List-Post", "<mailto:zakka-oroshi@lists.example.jp>"),
               ("List-Unsubscribe", "<mailto:zakka-oroshi-ctl@lists.example.jp?body=bye>"),
               ("Precedence", "bulk"), ("X-ML-Name", "zakka-oroshi"), ("X-Mail-Count", "0412")],
    )
    add("ja_list_precedence_bulk", flatten(m, MODERN), outcome="suppressed", suppressed_by="precedence",
        from_="zakka-oroshi@lists.example.jp", subject="[zakka-oroshi:0412] 年末年始の出荷スケジュール",
        text_contains=["年末年始の出荷スケジュール"])

    text = """Hi there,

Is your online shop getting the traffic it deserves? Our SEO package
puts you on the first page in 30 days or your money back. Reply YES
for a free audit.

The Growth Team
"""
    m = modern_message(
        text, frm="Growth Team <hello@seo-boost.example>", subject="Get more buyers for shop.example",
        date="Tue, 18 Nov 2025 05:17:09 +0000", mid="<5e1c9a0b77d24f30@seo-boost.example>",
        extra=[("Precedence", "junk")],
    )
    add("en_precedence_junk", flatten(m, MODERN), outcome="suppressed", suppressed_by="precedence",
        from_="hello@seo-boost.example", subject="Get more buyers for shop.example",
        text_contains=["SEO package"])


# --- bounces ------------------------------------------------------------------


def our_reply(mid, to, subject, text, date, irt):
    m = EmailMessage(policy=MODERN)
    m["From"] = f"{SHOP_JA} <{SHOP}>"
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = date
    m["Message-ID"] = mid
    m["In-Reply-To"] = irt
    m["References"] = irt
    m["Auto-Submitted"] = "auto-replied"
    m.set_content(text)
    return m


def dsn_fields(pairs):
    block = Message(policy=MODERN)
    for name, value in pairs:
        block[name] = value
    return block


def bounces():
    original = our_reply(
        "<mdg.r.BOUNCED@shop.example>", "gone@example.jp", "Re: 送料について",
        f"お問い合わせありがとうございます。\n{OUR_SHIPPING_JA}\n\n{SHOP_JA}\n",
        "Mon, 17 Nov 2025 14:06:10 +0900", "<20251117140012.6D1E@example.jp>",
    )
    m = MIMEMultipart("report", report_type="delivery-status", policy=MODERN,
                      boundary="4dBx2T0m9Rz1K.1763355972/mx.example.jp")
    m["Return-Path"] = "<>"
    m["Received"] = ("from mx.example.jp (mx.example.jp [192.0.2.53]) by mx.shop.example (Postfix)"
                     " with ESMTPS id 4dCA91B2C3D4; Mon, 17 Nov 2025 14:06:13 +0900 (JST)")
    m["From"] = "MAILER-DAEMON@mx.example.jp (Mail Delivery System)"
    m["To"] = SHOP
    m["Subject"] = "Undelivered Mail Returned to Sender"
    m["Date"] = "Mon, 17 Nov 2025 14:06:12 +0900 (JST)"
    m["Message-ID"] = "<20251117050612.0A1B2C3D4E@mx.example.jp>"
    m["Auto-Submitted"] = "auto-replied"
    mime_last(m)
    m.preamble = "This is a MIME-encapsulated message."
    notice = MIMEPart(policy=MODERN)
    notice.set_content(
        "This is the mail system at host mx.example.jp.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        "<gone@example.jp>: host mailbox.example.jp[192.0.2.54] said: 550 5.1.1\n"
        "    <gone@example.jp>: Recipient address rejected: User unknown in local\n"
        "    recipient table (in reply to RCPT TO command)\n"
    )
    notice["Content-Description"] = "Notification"
    m.attach(notice)
    status = MIMEBase("message", "delivery-status", policy=MODERN)
    subpart(status)
    status["Content-Description"] = "Delivery report"
    status.set_payload([
        dsn_fields([("Reporting-MTA", "dns; mx.example.jp"), ("X-Postfix-Queue-ID", "0A1B2C3D4E"),
                    ("X-Postfix-Sender", f"rfc822; {SHOP}"),
                    ("Arrival-Date", "Mon, 17 Nov 2025 14:06:11 +0900 (JST)")]),
        dsn_fields([("Final-Recipient", "rfc822; gone@example.jp"),
                    ("Original-Recipient", "rfc822;gone@example.jp"), ("Action", "failed"),
                    ("Status", "5.1.1"), ("Remote-MTA", "dns; mailbox.example.jp"),
                    ("Diagnostic-Code", "smtp; 550 5.1.1 <gone@example.jp>: Recipient address rejected:"
                                        " User unknown in local recipient table")]),
    ])
    m.attach(status)
    returned = MIMEMessage(original, policy=MODERN)
    subpart(returned)
    returned["Content-Description"] = "Undelivered Message"
    m.attach(returned)
    add("bounce_dsn_rfc822", flatten(m, MODERN), outcome="bounce", from_="mailer-daemon@mx.example.jp",
        subject="Undelivered Mail Returned to Sender",
        bounced_message_id="<mdg.r.BOUNCED@shop.example>", bounced_recipient="gone@example.jp")

    original = our_reply(
        "<mdg.r.BOUNCED3@shop.example>", "gone3@example.org", "Re: Return label",
        "To return an item, open your order page and choose \"Request a return\"\n"
        f"within 8 days of delivery.\n\n{SHOP_EN}\n",
        "Tue, 18 Nov 2025 09:00:05 +0900", "<CAF7t2Lp0mQ9vR4sW1nH6xZ3cY8jD5gE2aK7uI0oB9rT4vN1sP6@mail.gmail.com>",
    )
    m = MIMEMultipart("report", report_type="delivery-status", policy=MODERN,
                      boundary="=_report_7e2f9c41_mail.example.org")
    m["Return-Path"] = "<>"
    m["From"] = "Mail Delivery System <MAILER-DAEMON@mail.example.org>"
    m["To"] = SHOP
    m["Subject"] = "Delivery Status Notification (Failure)"
    m["Date"] = "Tue, 18 Nov 2025 00:00:09 +0000"
    m["Message-ID"] = "<dsn.7e2f9c41@mail.example.org>"
    m["Auto-Submitted"] = "auto-replied"
    mime_last(m)
    notice = MIMEPart(policy=MODERN)
    notice.set_content(
        "Your message could not be delivered to gone3@example.org:\n"
        "the recipient's mailbox is full and has not accepted mail for 5 days.\n"
    )
    m.attach(notice)
    status = MIMEBase("message", "delivery-status", policy=MODERN)
    subpart(status)
    status.set_payload([
        dsn_fields([("Reporting-MTA", "dns; mail.example.org")]),
        dsn_fields([("Final-Recipient", "rfc822; gone3@example.org"), ("Action", "failed"),
                    ("Status", "5.2.2"),
                    ("Diagnostic-Code", "smtp; 552 5.2.2 mailbox full")]),
    ])
    m.attach(status)
    headers_part = MIMEPart(policy=MODERN)
    header_text = flatten(original, MODERN).split(b"\r\n\r\n", 1)[0].decode("ascii") + "\n"
    headers_part.set_content(header_text, subtype="rfc822-headers", charset="us-ascii")
    m.attach(headers_part)
    add("bounce_dsn_rfc822_headers", flatten(m, MODERN), outcome="bounce",
        from_="mailer-daemon@mail.example.org", subject="Delivery Status Notification (Failure)",
        bounced_message_id="<mdg.r.BOUNCED3@shop.example>", bounced_recipient="gone3@example.org")

    original = our_reply(
        "<mdg.r.BOUNCED2@shop.example>", "gone2@example.com", "Re: Shipping cost",
        f"Shipping within Japan is a flat 550 yen.\n\n{SHOP_EN}\n",
        "Tue, 18 Nov 2025 10:12:40 +0900", "<20251118011201.GA4412@example.com>",
    )
    copy = flatten(original, MODERN).decode("ascii").replace("\r\n", "\n")
    text = (
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        "  gone2@example.com\n"
        "    host mx.example.com [192.0.2.80]\n"
        "    SMTP error from remote mail server after RCPT TO:<gone2@example.com>:\n"
        "    550 5.1.1 <gone2@example.com>: Recipient address rejected: User unknown\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        "Return-path: <support@shop.example>\n" + copy
    )
    m = modern_message(
        text, frm="Mail Delivery System <Mailer-Daemon@mx.example.com>",
        subject="Mail delivery failed: returning message to sender",
        date="Tue, 18 Nov 2025 01:12:43 +0000", mid="<E1vLx2a-0004Qk-7T@mx.example.com>", rp="<>",
        extra=[("X-Failed-Recipients", "gone2@example.com"), ("Auto-Submitted", "auto-replied")],
    )
    add("bounce_exim_x_failed_recipients", flatten(m, MODERN), outcome="bounce",
        from_="mailer-daemon@mx.example.com", subject="Mail delivery failed: returning message to sender",
        bounced_message_id="<mdg.r.BOUNCED2@shop.example>", bounced_recipient="gone2@example.com")


# --- role and own senders, loops -------------------------------------------------------


def roles_and_own():
    roles = [
        ("role_noreply", "マーケットプレイス通知 <noreply@notify.market.example>", "新しいレビューが投稿されました",
         "ひなた雑貨店 様\n\nあなたのショップの商品「波佐見焼のマグカップ」に新しいレビューが投稿されました。\n"
         "管理画面からご確認ください。\n\nこのメールは送信専用です。\n",
         "新しいレビューが投稿されました"),
        ("role_no_reply", "Example Pay <no-reply@pay.example.com>", "Your payout is on its way",
         "Hello Hinata Zakka,\n\nYour payout of JPY 48,200 was sent to your bank account ending 0042.\n"
         "It usually arrives within 2 business days.\n", "Your payout of JPY 48,200"),
        ("role_postmaster", "postmaster@example.net", "Mail from shop.example is being rate-limited",
         "Hello,\n\nWe are temporarily rate-limiting mail from shop.example to example.net users\n"
         "because of a sudden rise in volume. No action is needed if this was expected.\n\n"
         "example.net postmaster\n", "rate-limiting mail from shop.example"),
        ("role_owner_list", "owner-zakka-news@lists.example.org", "Your post to zakka-news awaits approval",
         "Your message to zakka-news with the subject \"Re: 送料について\" is being held\n"
         "until the list moderator can review it.\n", "is being held"),
        ("role_list_request", "zakka-news-request@lists.example.org", "confirm 3f7a9c0e1b2d",
         "Someone asked to subscribe support@shop.example to the zakka-news list.\n"
         "To confirm, reply to this message keeping the subject line intact.\n", "To confirm, reply"),
        ("role_abuse", "Abuse Desk <abuse@example.net>", "Abuse report: unsolicited mail from shop.example",
         "Hello,\n\nOne of our users reported a message from shop.example as unsolicited.\n"
         "The full report is available on request. Please review your sending practices.\n\n"
         "example.net abuse desk\n", "reported a message from shop.example"),
    ]
    for i, (name, frm, subject, text, needle) in enumerate(roles):
        m = modern_message(
            text, frm=frm, subject=subject, date=f"Tue, 18 Nov 2025 0{i}:15:00 +0000",
            mid=f"<{name}.20251118.{i:04d}@{email.utils.parseaddr(frm)[1].split('@')[1]}>",
            cte="base64" if any(ord(c) > 127 for c in text) else None,
        )
        add(name, flatten(m, MODERN), outcome="suppressed", suppressed_by="role_sender",
            from_=email.utils.parseaddr(frm)[1].lower(), subject=subject, text_contains=[needle])

    # A staff member sent from the support address and copied the inbox.
    text = f"""清水 様

お問い合わせありがとうございます。
佐渡島への送料は、通常の550円に離島料金660円を加えた1,210円（税込）です。

{SHOP_JA}
"""
    m = modern_message(
        text, frm=f"{SHOP_JA} <{SHOP}>", to="清水 大輔 <daisuke.shimizu@example.jp>",
        subject="Re: Fwd: Re: 送料について", date="Wed, 19 Nov 2025 10:02:11 +0900", cte="base64",
        mid="<a3f1c9e2-5d7b-4f0e-9c11-6e2b8d4a7f30@staff-pc.example>",
        extra=[("Cc", SHOP)],
    )
    add("own_address", flatten(m, MODERN), outcome="suppressed", suppressed_by="own_address",
        from_=SHOP, subject="Re: Fwd: Re: 送料について", text_contains=["離島料金660円"])

    # A customer's filter passed our reply straight back; procmail left X-Loop.
    text = f"""田中 様

お問い合わせありがとうございます。
{OUR_SHIPPING_JA}

{SHOP_JA}
"""
    m = modern_message(
        text, frm="田中 亮 <tanaka@example.jp>", subject="Re: 送料について",
        date="Wed, 19 Nov 2025 11:40:00 +0900", cte="base64",
        mid="<20251119114000.procmail.31337@example.jp>",
        extra=[("X-Loop", SHOP)],
    )
    add("own_x_loop", flatten(m, MODERN), outcome="suppressed", suppressed_by="x_loop",
        from_="tanaka@example.jp", subject="Re: 送料について", text_contains=["お問い合わせありがとうございます"])

    # A client's "edit as new" kept our Message-ID.
    text = f"""石川 様

お問い合わせありがとうございます。
{OUR_RETURNS_JA}

{SHOP_JA}
"""
    m = modern_message(
        text, frm="石川 遼 <ryo.ishikawa@example.jp>", subject="Re: 返品について",
        date="Wed, 19 Nov 2025 13:05:27 +0900", cte="base64",
        mid="<mdg.r.0b1c77d4@shop.example>",
    )
    add("own_message_id", flatten(m, MODERN), outcome="suppressed", suppressed_by="own_message_id",
        from_="ryo.ishikawa@example.jp", subject="Re: 返品について",
        text_contains=["商品到着後8日以内に"])


# --- sender authentication -------------------------------------------------------------------


def dmarc():
    text = """Hello,

We'd like to order 40 linen aprons for our cafe staff. What would shipping
cost to Osaka for an order of that size?

Kate Morgan
"""
    m = modern_message(
        text, frm="Kate Morgan <kate.morgan@example.com>", subject="Shipping cost for a large order",
        date="Wed, 19 Nov 2025 02:33:18 +0000", mid="<20251119023318.5512.kate@mailer.example.net>",
        top=[("Authentication-Results", "mx.shop.example; dmarc=fail (p=reject) header.from=example.com")],
    )
    add("dmarc_fail_shipping", flatten(m, MODERN), outcome="suppressed", suppressed_by="dmarc_fail",
        topic="shipping", from_="kate.morgan@example.com", subject="Shipping cost for a large order",
        text_contains=["What would shipping"])

    text = """ひなた雑貨店 様

手ぬぐいを5枚注文した場合、福岡市までの送料はいくらですか。

伊藤
"""
    m = modern_message(
        text, frm="伊藤 博 <hiroshi.ito@example.com>", subject="福岡までの送料",
        date="Wed, 19 Nov 2025 14:20:45 +0900", cte="base64",
        mid="<CAJ8rTq2wE4rY6uI8oP0aS2dF4gH6jK8lZ0xC2vB4nM6qW8eR0t@mail.gmail.com>",
        top=[("Authentication-Results",
              "mx.shop.example; dkim=pass header.d=example.com header.s=s1; spf=pass smtp.mailfrom=example.com;"
              " dmarc=pass (p=reject dis=none) header.from=example.com")],
    )
    add("dmarc_pass_verified_shipping", flatten(m, MODERN), topic="shipping",
        from_="hiroshi.ito@example.com", subject="福岡までの送料",
        text_contains=["福岡市までの送料はいくらですか"], verified_sender=True)

    text = """Hi,

How much is shipping for one donabe pot to Sapporo?

Grace
"""
    m = modern_message(
        text, frm="Grace Lee <grace.lee@example.com>", subject="Shipping to Sapporo",
        date="Wed, 19 Nov 2025 05:48:02 +0000", mid="<20251119054802.77A0.grace@example.com>",
        top=[("Authentication-Results", "evil.example; dmarc=pass header.from=example.com")],
    )
    add("dmarc_pass_other_authserv_shipping", flatten(m, MODERN), topic="shipping",
        from_="grace.lee@example.com", subject="Shipping to Sapporo",
        text_contains=["How much is shipping for one donabe pot"], verified_sender=False)


# --- loops, undecodable, sensitive --------------------------------------------------------------


def loops_undecodable_sensitive():
    ours = "<mdg.r.2d4c8e61@shop.example>"
    text = """お問い合わせありがとうございます。
担当者より折り返しご連絡いたします。
今しばらくお待ちくださいますよう、お願い申し上げます。

アザーショップ カスタマーサポート
"""
    m = modern_message(
        text, frm="アザーショップ <info@other-shop.example>", subject="Re: Re: 送料について",
        date="Wed, 19 Nov 2025 15:00:07 +0900", cte="base64", mid="<ar.20251119150007.0091@other-shop.example>",
        irt=ours, refs=[ours],
    )
    add("ja_naive_autoresponder_loop", flatten(m, MODERN), topic="none",
        from_="info@other-shop.example", subject="Re: Re: 送料について",
        text_contains=["担当者より折り返しご連絡いたします"], in_reply_to=ours, references=[ours])

    # Polish text in ISO-8859-2 bytes behind a charset nobody knows.
    text = """Dzień dobry,
chciałbym zapytać, ile kosztuje wysyłka dwóch kubków do Polski.
Pozdrawiam, Łukasz
"""
    m = modern_message(
        None, frm="Łukasz Wiśniewski <lukasz.w@example.pl>", subject="Pytanie o wysyłkę",
        date="Wed, 19 Nov 2025 07:12:00 +0100", mid="<9f8e7d6c.5b4a.3210@example.pl>",
    )
    m.set_content(text.encode("iso8859_2"), maintype="text", subtype="plain", cte="8bit")
    m.set_param("charset", "x-unknown-charset-42")
    add("unknown_charset_8bit", flatten(m, MODERN), outcome="quarantined",
        from_="lukasz.w@example.pl", subject="Pytanie o wysyłkę")

    data = b"\x00\x9c\xff"
    counter = 0
    while len(data) < 600:
        data += hashlib.sha256(f"garbage:{counter}".encode()).digest()
        counter += 1
    CORPUS.append(("garbage_no_headers.eml", data, E("garbage_no_headers.eml", outcome="quarantined")))

    text = """ひなた雑貨店 様

先ほど注文した原田です。
決済画面でエラーが出たので、念のためカード番号をお送りします。
４１１１－１１１１－１１１１－１１１１（有効期限 ０８／２８）
こちらで決済していただけますか。

原田 美穂
"""
    m = modern_message(
        text, frm="原田 美穂 <harada.m@example.jp>", subject="支払いについて",
        date="Wed, 19 Nov 2025 16:44:29 +0900", cte="base64",
        mid="<CAM3pLq9vT1nR5sW7xZ2cY4hJ6dG8eF0aU3iK5oR7tV9bN2mQ4w@mail.gmail.com>",
    )
    add("ja_card_number", flatten(m, MODERN), topic="none", from_="harada.m@example.jp",
        subject="支払いについて", text_contains=["決済画面でエラーが出た"])


# --- self-check -------------------------------------------------------------------


def decode_bytes(data: bytes, label):
    """Independent of email's charset handling: codecs and nkf by label."""
    label = (label or "").lower()
    if label in ("iso-2022-jp", "iso-2022-jp-ms", "cp50220", "cp50221") or (not label and b"\x1b" in data):
        return nkf_decode(data)
    table = {"iso-2022-jp-2": "iso2022_jp_2", "shift_jis": "shift_jis", "windows-31j": "cp932",
             "cp932": "cp932", "euc-jp": "euc_jp", "utf-8": "utf-8", "us-ascii": "ascii", "": "ascii"}
    if label not in table:
        raise LookupError(label)
    return data.decode(table[label])


def decode_words(raw):
    if raw is None:
        return None
    out = []
    for chunk, label in email.header.decode_header(raw):
        out.append(chunk if isinstance(chunk, str) else decode_bytes(chunk, label) if label
                   else chunk.decode("ascii"))
    return "".join(out)


class Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")
        if tag in ("br", "p"):
            self.out.append("\n")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def html_text(source):
    p = Text()
    p.feed(source)
    return "".join(p.out)


def body_texts(msg):
    """(plain text, html source) of the first text parts, decoded independently."""
    plain = html = None
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_content_disposition() == "attachment":
            continue
        if msg.get_content_type() == "multipart/report":
            continue
        text = decode_bytes(part.get_payload(decode=True), part.get_content_charset())
        if part.get_content_subtype() == "plain" and plain is None:
            plain = text
        elif part.get_content_subtype() == "html" and html is None:
            html = text
    return plain, html


ROLE = {"noreply", "no-reply", "donotreply", "do-not-reply", "postmaster", "mailer-daemon", "abuse"}


def reference_outcome(msg, raw):
    """A small classifier written from the product's rules, to check expected.json."""
    if msg["From"] is None:
        return "quarantined", None
    try:
        body_texts(msg)
    except (LookupError, UnicodeDecodeError):
        return "quarantined", None
    if (msg.get_content_type() == "multipart/report"
            and msg.get_param("report-type") == "delivery-status") or msg["X-Failed-Recipients"]:
        return "bounce", None
    sender = msg["From"].addresses[0].addr_spec.lower()
    local = sender.split("@")[0]
    ar = [str(v) for v in msg.get_all("Authentication-Results", [])]
    checks = [
        ("null_sender", (msg["Return-Path"] or "").strip() == "<>"),
        ("own_address", sender == SHOP),
        ("own_message_id", str(msg["Message-ID"] or "").strip().lower().endswith("@shop.example>")),
        ("x_loop", any(SHOP in str(v).lower() for v in msg.get_all("X-Loop", []))),
        ("auto_submitted", str(msg["Auto-Submitted"] or "no").strip().lower().split()[0] != "no"),
        ("auto_response_suppress", msg["X-Auto-Response-Suppress"] is not None),
        ("x_autoreply", msg["X-Autoreply"] is not None or msg["X-Autorespond"] is not None),
        ("precedence", str(msg["Precedence"] or "").strip().lower() in ("bulk", "junk", "list", "auto_reply")),
        ("list", any(msg[h] is not None for h in ("List-Id", "List-Unsubscribe", "List-Post"))),
        ("role_sender", local in ROLE or local.startswith("owner-") or local.endswith("-request")),
        ("dmarc_fail", any(v.split(";")[0].strip() == "mx.shop.example" and "dmarc=fail" in v for v in ar)),
    ]
    for reason, hit in checks:
        if hit:
            return "suppressed", reason
    return "process", None


def verified(msg):
    for v in msg.get_all("Authentication-Results", []):
        v = str(v)
        if v.split(";")[0].strip() == "mx.shop.example" and re.search(r"\bdmarc=pass\b", v):
            return True
    return False


def bounce_info(msg):
    if msg["X-Failed-Recipients"]:
        body = msg.get_content().replace("\r\n", "\n")
        copy = body.split("------ This is a copy of the message, including all the headers. ------", 1)[1]
        headers = HeaderParser(policy=email.policy.default).parsestr(copy.lstrip("\n"))
        return str(headers["Message-ID"]), str(msg["X-Failed-Recipients"]).strip()
    mid = rcpt = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            for block in part.get_payload():
                if block["Final-Recipient"] and block["Action"] == "failed":
                    rcpt = str(block["Final-Recipient"]).split(";", 1)[1].strip()
        elif ctype == "message/rfc822":
            mid = str(part.get_payload(0)["Message-ID"])
        elif ctype == "text/rfc822-headers":
            mid = str(HeaderParser(policy=email.policy.default).parsestr(part.get_content())["Message-ID"])
    return mid, rcpt


def check(file, raw, exp):
    problems = []

    def want(cond, what):
        if not cond:
            problems.append(what)

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    raw_msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    outcome, reason = reference_outcome(msg, raw)
    want((outcome, reason) == (exp["outcome"], exp["suppressed_by"]),
         f"outcome {outcome}/{reason} != {exp['outcome']}/{exp['suppressed_by']}")
    if outcome == "quarantined" and msg["From"] is None:
        want(exp["from"] is None and exp["subject"] is None, "garbage has no from/subject")
        return problems, None
    sender = msg["From"].addresses[0].addr_spec.lower()
    want(sender == exp["from"], f"from {sender!r}")
    subject = decode_words(raw_msg["Subject"])
    want(subject == exp["subject"], f"subject {subject!r}")
    python_subject = str(msg["Subject"])
    note = None
    if python_subject != subject:
        note = f"email's own decoder reads the subject as {python_subject!r}"
    irt = msg["In-Reply-To"]
    want((str(irt).strip() if irt else None) == exp["in_reply_to"], f"in-reply-to {irt!r}")
    refs = str(msg["References"]).split() if msg["References"] else []
    want(refs == exp["references"], f"references {refs!r}")
    want(verified(msg) == exp["verified_sender"], "verified_sender")

    atts = []
    for part in msg.iter_attachments() if msg.is_multipart() else []:
        if part.get_content_maintype() in ("image", "application"):
            atts.append({"name": part.get_filename(), "content_type": part.get_content_type(),
                         "size": len(part.get_payload(decode=True))})
    want(atts == exp["attachments"], f"attachments {atts!r}")

    if outcome == "bounce":
        mid, rcpt = bounce_info(msg)
        want(mid == exp["bounced_message_id"], f"bounced message id {mid!r}")
        want(rcpt == exp["bounced_recipient"], f"bounced recipient {rcpt!r}")
        want(raw.startswith(b"Return-Path: <>\r\n"), "a bounce has an empty Return-Path")
        return problems, note
    want(exp["bounced_message_id"] is None and exp["bounced_recipient"] is None, "no bounce data")
    if outcome == "quarantined":
        return problems, note

    plain, source = body_texts(msg)
    if plain is not None:
        for c in exp["text_contains"] + exp["original_contains"]:
            want(c in plain, f"not in body: {c!r}")
        for e in exp["text_excludes"]:
            want(e in plain, f"exclude not in body at all: {e!r}")
        first_excluded = min([plain.index(e) for e in exp["text_excludes"] if e in plain], default=len(plain))
        for c in exp["text_contains"]:
            want(c in plain and plain.index(c) < first_excluded, f"contains after quoted/signature: {c!r}")
    else:
        text = html_text(source)
        for c in exp["text_contains"]:
            want(c in text, f"not in html text: {c!r}")
        for c in exp["original_contains"]:
            want(c in source, f"not in html source: {c!r}")
        for e in exp["text_excludes"]:
            want(e in source and e not in text, f"exclude: {e!r}")
    return problems, note


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the files on disk, write nothing")
    args = ap.parse_args()

    ja_charsets()
    utf8_html_attachments()
    forwards_and_replies()
    auto_and_lists()
    bounces()
    roles_and_own()
    dmarc()
    loops_undecodable_sensitive()

    names = [f for f, _, _ in CORPUS]
    assert len(names) == len(set(names)), "duplicate file names"
    expected = [exp for _, _, exp in CORPUS]
    index = (json.dumps(expected, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    failed = False
    for file, raw, exp in CORPUS:
        problems, note = check(file, raw, exp)
        if problems:
            failed = True
            print(f"{file}: " + "; ".join(problems), file=sys.stderr)
        if note:
            print(f"{file}: note: {note}")
    if failed:
        sys.exit("self-check failed: nothing written")

    outputs = {OUT / f: raw for f, raw, _ in CORPUS}
    outputs[OUT / "expected.json"] = index
    if args.check:
        stale = [p.name for p, data in outputs.items() if not p.exists() or p.read_bytes() != data]
        extra = sorted({p.name for p in OUT.glob("*.eml")} - set(names))
        if stale or extra:
            sys.exit(f"corpus out of date: {stale + extra}")
        print(f"{len(CORPUS)} messages match")
        return
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.eml"):
        if old.name not in names:
            old.unlink()
    for path, data in outputs.items():
        path.write_bytes(data)
    counts = {}
    for exp in expected:
        counts[exp["outcome"]] = counts.get(exp["outcome"], 0) + 1
    print(f"{len(CORPUS)} messages written to {OUT.relative_to(ROOT)}: {counts}")


if __name__ == "__main__":
    main()
