//! A generated rule set of any size, and messages for it, so that the
//! benchmarks measure the matcher at the scale the product promises (1,000
//! intents, 10,000 keywords) without shipping a 10,000-line example.

use std::fmt::Write;

/// A small deterministic generator (xorshift64*): the same rule set and
/// messages on every run, so figures are comparable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Common kanji: a realistic rule set's keywords are distinct words, so the
/// alphabet is large enough that random keywords rarely occur by accident.
const KANJI: &[&str] = &[
    "一", "上", "下", "中", "主", "事", "二", "交", "人", "代", "以", "会", "住", "体", "使", "価",
    "保", "元", "入", "全", "公", "内", "出", "分", "別", "利", "制", "券", "前", "動", "包", "化",
    "十", "収", "取", "口", "合", "同", "向", "和", "品", "員", "商", "問", "営", "国", "在", "地",
    "報", "場", "変", "外", "多", "大", "子", "学", "定", "実", "家", "容", "寸", "対", "小", "届",
    "市", "平", "年", "店", "度", "庫", "延", "強", "当", "後", "心", "性", "情", "意", "感", "成",
    "所", "手", "払", "換", "損", "支", "政", "数", "文", "料", "新", "方", "日", "明", "時", "更",
    "書", "最", "月", "期", "本", "来", "東", "株", "格", "業", "権", "正", "民", "気", "決", "法",
    "注", "活", "海", "済", "物", "特", "率", "現", "理", "生", "産", "用", "田", "発", "登", "目",
    "相", "研", "破", "確", "社", "究", "立", "答", "策", "組", "経", "総", "線", "義", "者", "自",
    "舗", "色", "行", "術", "装", "製", "要", "見", "記", "話", "調", "議", "資", "贈", "車", "軍",
    "近", "返", "送", "通", "連", "遅", "運", "部", "配", "金", "録", "長", "開", "間", "関", "際",
    "電", "領", "題", "首", "高",
];
const KANA: &[&str] = &[
    "ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ", "コ", "サ", "シ", "ス", "セ", "ソ", "タ",
    "チ", "ツ", "テ", "ト", "ナ", "ニ", "ヌ", "ネ", "ノ", "ハ", "ヒ", "フ", "ヘ", "ホ", "マ", "ミ",
    "ム", "メ", "モ", "ヤ", "ユ", "ヨ", "ラ", "リ", "ル", "レ", "ロ", "ワ", "ヲ", "ン", "ガ", "ギ",
    "グ", "ゲ", "ゴ", "ザ", "ジ", "ズ", "ゼ", "ゾ", "ダ", "ヂ", "ヅ", "デ", "ド", "バ", "ビ", "ブ",
    "ベ", "ボ", "パ", "ピ", "プ", "ペ", "ポ",
];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "den", "vor", "sel", "tan", "pel", "gri", "sto", "bun", "mar", "quo",
    "zen", "fal", "hob", "jus", "kel", "nor", "pix", "ruv", "sim", "tor", "ul", "ven", "wex",
    "yar",
];
const JA_FILLER: &[&str] = &[
    "すみません、",
    "お世話になっております。",
    "こんにちは。",
    "あの、",
    "先日注文した件で、",
    "確認したいのですが",
    "教えてください",
    "どうなっていますか",
    "よろしくお願いします",
    "困っています",
];
const EN_FILLER: &[&str] = &[
    "Hi there,",
    "Hello,",
    "Quick question:",
    "I ordered last week and",
    "could you tell me about",
    "please help with",
    "I need to know about the",
    "thanks in advance",
    "as soon as possible",
    "regards",
];

fn japanese_word(rng: &mut Rng) -> String {
    let mut word = String::new();
    if rng.below(2) == 0 {
        for _ in 0..2 + rng.below(2) {
            word.push_str(rng.pick(KANJI));
        }
    } else {
        for _ in 0..3 + rng.below(3) {
            word.push_str(rng.pick(KANA));
        }
    }
    word
}

fn english_word(rng: &mut Rng) -> String {
    let mut word = String::new();
    for _ in 0..2 + rng.below(2) {
        word.push_str(rng.pick(SYLLABLES));
    }
    word
}

/// Keywords per intent, Japanese then English.
pub struct Generated {
    pub yaml: String,
    pub keywords: Vec<(Vec<String>, Vec<String>)>,
}

/// A rule set of `intents` intents with `per_intent` keywords each (half
/// Japanese, half English), one all-of group per intent, and a regex on
/// every tenth intent.
pub fn rule_set(intents: usize, per_intent: usize) -> Generated {
    let mut rng = Rng::new(0x6d61_646f);
    let mut yaml = String::from(
        "locales: [ja, en]\nshop:\n  name: { ja: はなまる, en: Hanamaru }\ndetails:\n  order_number: '\\b\\d{4}-\\d{4}\\b'\nintents:\n",
    );
    let mut keywords = Vec::with_capacity(intents);
    for i in 0..intents {
        let ja: Vec<String> = (0..per_intent / 2)
            .map(|_| japanese_word(&mut rng))
            .collect();
        let en: Vec<String> = (0..per_intent - per_intent / 2)
            .map(|_| english_word(&mut rng))
            .collect();
        let _ = writeln!(yaml, "  - id: intent_{i}\n    match:");
        if i % 10 == 0 {
            let _ = writeln!(yaml, "      regex: ['{}-(?P<code_{i}>\\d{{3}})']", en[0]);
        }
        let _ = writeln!(yaml, "      all: [[{}, {}]]", ja[0], en[0]);
        let _ = writeln!(yaml, "      ja:\n        any: [{}]", ja.join(", "));
        let _ = writeln!(yaml, "      en:\n        any: [{}]", en.join(", "));
        let _ = writeln!(
            yaml,
            "    answer:\n      ja: '{{{{ shop.name }}}}です。{}についてご案内します。'\n      en:\n        chat: 'About {}, from {{{{ shop.name }}}}.'\n        email: 'Dear customer, about {}.'",
            ja[0], en[0], en[0]
        );
        keywords.push((ja, en));
    }
    Generated { yaml, keywords }
}

/// Customer-like messages: filler around one or two keywords; one message
/// in eight matches nothing.
pub fn messages(generated: &Generated, count: usize) -> Vec<String> {
    let mut rng = Rng::new(0x6d73_6773);
    (0..count)
        .map(|n| {
            let (ja, en) = &generated.keywords[rng.below(generated.keywords.len())];
            let japanese = n % 2 == 0;
            let miss = n % 8 == 7;
            if japanese {
                let word = if miss {
                    "天気"
                } else {
                    &ja[rng.below(ja.len())]
                };
                format!(
                    "{}{}の{}について{}",
                    rng.pick(JA_FILLER),
                    word,
                    rng.pick(KANJI),
                    rng.pick(JA_FILLER)
                )
            } else {
                let word = if miss {
                    "weather"
                } else {
                    &en[rng.below(en.len())]
                };
                format!(
                    "{} {} {} order 1234-5678, {}",
                    rng.pick(EN_FILLER),
                    rng.pick(EN_FILLER),
                    word,
                    rng.pick(EN_FILLER)
                )
            }
        })
        .collect()
}
