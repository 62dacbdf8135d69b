//! The scorer's mechanics on a small lexicon, and the built-in lexicons on

// Figures compared here are rounded or exact by construction.
#![allow(clippy::float_cmp)]
//! the definition's own examples.

use super::*;
use crate::text::normalize;

const LEXICON: &str = r"
negative: { 悪い: 2, 悪く: 2, 残念: 2, 遅い: 1.5, 迷惑: 2.5, bad: 2, slow: 1.5, terrible: 3 }
positive: { 満足: 2, 良い: 1.5, happy: 1.5, great: 2 }
churn: { 二度と: 3, never again: 3 }
waiting: { 返事がない: 2.5, no reply: 2.5 }
intensifiers: { 本当に: 1.5, very: 1.5 }
negators: [ない, ません, not, never]
not_negations: [なりません, でしょうか]
contrast: { けど: 0, のに: 1, but: 0 }
politeness: [恐れ入りますが, please]
neutral: [迷惑メール]
self_harm: [死にたい, want to die]
violence: [殺す, hurt you]
";

/// A scorer with the automaton it reads.
type Standalone = (Scorer, crate::matcher::Terms);

fn scorer() -> Standalone {
    let spec: LexiconSpec = serde_saphyr::from_str(LEXICON).unwrap();
    let mut builder = ScorerBuilder::default();
    builder.add(&spec).unwrap();
    builder
        .build_standalone(SentimentSettings::default())
        .unwrap()
}

fn score((scorer, terms): &Standalone, text: &str) -> Sentiment {
    let normalized = normalize(text);
    scorer.score(&normalized, text, &terms.find(&normalized, text))
}

fn kinds(sentiment: &Sentiment) -> Vec<CueKind> {
    sentiment.cues.iter().map(|c| c.kind).collect()
}

#[test]
fn a_negative_word_makes_a_complaint_and_a_positive_one_does_not() {
    let s = scorer();
    let upset = score(&s, "対応が悪いです");
    assert!(upset.complaint && upset.score < -0.4, "{upset:?}");
    let happy = score(&s, "とても満足です");
    assert!(!happy.complaint && happy.score > 0.4, "{happy:?}");
    let neutral = score(&s, "配送状況を確認できますか");
    assert_eq!(neutral.score, 0.0);
    assert!(neutral.cues.is_empty());
}

#[test]
fn japanese_negation_follows_the_word_within_its_kana() {
    let s = scorer();
    let not_bad = score(&s, "悪くないです");
    assert!(not_bad.score > 0.0, "{not_bad:?}");
    assert!(kinds(&not_bad).contains(&CueKind::Negation));
    let unhappy = score(&s, "満足していません");
    assert!(unhappy.complaint, "{unhappy:?}");
    // A kanji starts the next word: `遅いし来ない` does not negate `遅い`.
    assert!(score(&s, "遅いし来ない").complaint);
}

#[test]
fn phrases_that_only_look_negated_are_not_turned_around() {
    let s = scorer();
    assert!(
        score(&s, "残念でなりません").complaint,
        "〜でなりません intensifies"
    );
    assert!(
        score(&s, "それは悪いのではないでしょうか").complaint,
        "a rhetorical question asserts"
    );
}

#[test]
fn english_negation_precedes_the_word() {
    let s = scorer();
    assert!(score(&s, "I am not happy with this").complaint);
    assert!(score(&s, "I'm not very happy").complaint);
    assert!(!score(&s, "honestly not bad at all").complaint);
    assert!(
        score(&s, "Not bad. But terrible support").complaint,
        "the clause break ends the negation"
    );
}

#[test]
fn intensifiers_strengthen_the_next_term() {
    let s = scorer();
    let plain = score(&s, "遅いです").score;
    let strong = score(&s, "本当に遅いです").score;
    assert!(strong < plain, "{strong} < {plain}");
    assert!(score(&s, "very slow").score < score(&s, "slow").score);
}

#[test]
fn what_follows_a_contrast_counts_more() {
    let s = scorer();
    assert!(score(&s, "商品は良いけど、配送が遅い").complaint);
    assert!(!score(&s, "配送は遅いけど、対応に満足です").complaint);
    assert!(score(&s, "great product but terrible delivery").complaint);
    let despite = score(&s, "払ったのに");
    assert!(despite.score < 0.0, "のに complains by itself");
}

#[test]
fn politeness_softens_but_does_not_undo_a_complaint() {
    let s = scorer();
    let blunt = score(&s, "対応が悪い");
    let polite = score(&s, "恐れ入りますが、対応が悪い");
    assert!(polite.score > blunt.score);
    assert!(polite.complaint);
}

#[test]
fn shouting_strengthens_and_shows_annoyance() {
    let s = scorer();
    assert!(score(&s, "slow!!!").score < score(&s, "slow").score);
    let shouted = score(&s, "WHERE IS MY PARCEL???");
    assert!(shouted.complaint, "{shouted:?}");
    assert!(kinds(&shouted).contains(&CueKind::Caps));
    assert!(kinds(&shouted).contains(&CueKind::Punctuation));
    assert!(
        !score(&s, "Is the USB cable in stock?").complaint,
        "an acronym is not shouting"
    );
}

#[test]
fn churn_and_waiting_count_and_waiting_keeps_its_own_negation() {
    let s = scorer();
    assert!(score(&s, "二度と使わない").complaint);
    assert!(score(&s, "three days and no reply").complaint);
    assert!(score(&s, "返事がないです").complaint);
}

#[test]
fn a_neutral_phrase_masks_the_term_inside_it() {
    let s = scorer();
    let spam = score(&s, "迷惑メールフォルダも見ました");
    assert!(!spam.complaint && spam.cues.is_empty(), "{spam:?}");
    assert!(score(&s, "本当に迷惑です").complaint);
}

#[test]
fn safety_is_reported_apart_from_complaints() {
    let s = scorer();
    let harm = score(&s, "もう死にたい");
    assert_eq!(harm.safety, Some(SafetyConcern::SelfHarm));
    assert!(!harm.complaint);
    assert_eq!(
        score(&s, "I will hurt you").safety,
        Some(SafetyConcern::Violence)
    );
    assert_eq!(
        score(&s, "I want to die laughing at this").safety,
        Some(SafetyConcern::SelfHarm)
    );
    assert_eq!(score(&s, "配送状況を教えて").safety, None);
}

#[test]
fn cues_point_at_the_original_text() {
    let s = scorer();
    let text = "ﾎﾝﾄｳﾆ遅い!!!";
    let sentiment = score(&s, text);
    let cue = sentiment
        .cues
        .iter()
        .find(|c| c.kind == CueKind::Negative)
        .unwrap();
    let normalized = normalize(text);
    assert_eq!(
        &text[normalized.original_range(text, cue.span.clone())],
        "遅い"
    );
}

#[test]
fn later_lexicons_override_and_weight_zero_removes() {
    let mut builder = ScorerBuilder::default();
    builder
        .add(&serde_saphyr::from_str("negative: { 遅い: 1.5 }").unwrap())
        .unwrap();
    builder
        .add(&serde_saphyr::from_str("negative: { 遅い: 0 }\npositive: { 早い: 2 }").unwrap())
        .unwrap();
    let s = builder
        .build_standalone(SentimentSettings::default())
        .unwrap();
    assert_eq!(score(&s, "遅い").score, 0.0);
    assert!(score(&s, "早い").score > 0.0);
}

#[test]
fn bad_lexicon_entries_are_refused_with_a_reason() {
    let mut builder = ScorerBuilder::default();
    let spec: LexiconSpec =
        serde_saphyr::from_str("negative: { 遅い: 20, '「」': 1 }\nintensifiers: { 本当に: 0.5 }")
            .unwrap();
    let errors = builder.add(&spec).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("`遅い` has weight 20")));
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`「」` is empty once normalized"))
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("intensifier `本当に` has factor 0.5"))
    );
}

/// The definition's own examples, on the built-in lexicons.
#[test]
fn the_built_in_lexicons_follow_the_definition() {
    let s = ScorerBuilder::with_builtin()
        .build_standalone(SentimentSettings::default())
        .unwrap();
    for question in [
        "配送状況を確認できますか",
        "Can you check where my parcel is?",
        "さようなら",
        "では、さよなら",
    ] {
        assert!(!score(&s, question).complaint, "{question}");
    }
    for complaint in [
        "一週間たっても届きません。どうなっているんですか",
        "Still nothing after two weeks. Seriously?",
        "責任者を出せ",
        "I want a refund now",
        "解約します。二度と使わない",
        "I'll never order from you again",
    ] {
        assert!(score(&s, complaint).complaint, "{complaint}");
    }
}

/// 〜ないでください forbids; it does not negate: the word it forbids keeps
/// its weight. A threat of action is a threat cue, unless it is denied.
#[test]
fn a_prohibition_is_not_a_negation_and_threats_are_their_own_cue() {
    let s = ScorerBuilder::with_builtin()
        .build_standalone(SentimentSettings::default())
        .unwrap();
    for angry in ["ふざけないでください", "馬鹿にしないでください！"] {
        let found = score(&s, angry);
        assert!(found.complaint, "{angry}: {:?}", kinds(&found));
        assert!(!kinds(&found).contains(&CueKind::Negation), "{angry}");
    }
    for threat in [
        "改善がなければ消費者センターに相談します",
        "I will file a chargeback if this is not fixed",
    ] {
        assert!(score(&s, threat).threat(), "{threat}");
    }
    for calm in [
        "訴えるつもりはありません",
        "I'm not going to sue anyone",
        "Is there a lawyer I should contact about customs?",
    ] {
        assert!(!score(&s, calm).threat(), "{calm}");
    }
}

fn builtin() -> Standalone {
    ScorerBuilder::with_builtin()
        .build_standalone(SentimentSettings::default())
        .unwrap()
}

/// VADER's clearly negative words of feeling count; the words it rates
/// negative that only name what happened (stolen, error, failed, trouble)
/// are left out, so a plain report stays neutral.
#[test]
fn vader_words_of_feeling_count_and_its_event_words_do_not() {
    let s = builtin();
    for upset in [
        "The pool area was filthy and the towels smelled rotten",
        "Honestly a horrendous experience from start to finish",
        "The agent was heartless about my situation",
    ] {
        let found = score(&s, upset);
        assert!(found.complaint, "{upset}: {:?}", kinds(&found));
    }
    for report in [
        "My card was stolen, can you block it?",
        "The payment failed with an error, what should I do?",
        "I'm having trouble logging in to my account",
        "Is it difficult to change my plan?",
    ] {
        let found = score(&s, report);
        assert!(!found.complaint, "{report}: {:?}", found.cues);
    }
}

#[test]
fn the_vader_list_is_read_as_negative_weights_capped_at_three() {
    let spec = super::lexicon::vader_lexicon("# note\nawful\t-2.0\nvile\t-3.4\n").unwrap();
    assert_eq!(spec.negative.get("awful"), Some(&2.0));
    assert_eq!(spec.negative.get("vile"), Some(&3.0));
    assert_eq!(
        super::lexicon::vader_lexicon("no tab here\n").unwrap_err(),
        1
    );
}

/// A failure told as events: one event is a report, a failure that repeats
/// or piles on another is a complaint.
#[test]
fn service_failures_told_as_events_complain_when_they_repeat_or_pile_up() {
    let s = builtin();
    for report in [
        "My order got cancelled, can I place a new one?",
        "The call got disconnected, could you ring me back?",
        "注文がキャンセルされたのですが、再注文はできますか",
        "便が欠航になりました。振替はどうすればいいですか",
    ] {
        let found = score(&s, report);
        assert!(!found.complaint, "{report}: {:?}", found.cues);
    }
    for failure in [
        "The train to the coast was cancelled again this morning.",
        "Delayed for hours at the gate and nothing offered.",
        "Bounced from department to department for a week.",
        "予約の便がまたキャンセルになった。",
        "窓口をたらいまわしにされ、担当者によって言うことがバラバラです",
        "アプリがまた落ちた。何度やってもログインできません",
    ] {
        let found = score(&s, failure);
        assert!(found.complaint, "{failure}: {:?}", kinds(&found));
    }
}

/// Sarcastic thanks for what went wrong is a complaint.
#[test]
fn thanks_for_a_failure_is_sarcasm() {
    let s = builtin();
    for sarcasm in [
        "Thanks for wasting my whole afternoon on the phone.",
        "Another delay, just what I needed before a wedding.",
        "二時間待って結局返金なし。いい勉強になりました",
    ] {
        let found = score(&s, sarcasm);
        assert!(found.complaint, "{sarcasm}: {:?}", kinds(&found));
    }
    assert!(!score(&s, "Thanks for sorting out my booking so fast!").complaint);
}

/// Evaluative predicates complain without a complaint word; negated they
/// do not, and 〜すぎ of the customer's own doing is no complaint.
#[test]
fn evaluative_predicates_complain_in_their_conjugations() {
    let s = builtin();
    for evaluative in [
        "客室が狭くて荷物を広げられなかった",
        "スープがしょっぱすぎて飲めませんでした",
        "隣の部屋の話し声が聞こえるほど壁が薄い",
        "The room was cramped and the bathroom musty.",
        "Dinner was bland and the fries were soggy.",
    ] {
        let found = score(&s, evaluative);
        assert!(found.complaint, "{evaluative}: {:?}", kinds(&found));
    }
    for fine in [
        "部屋は狭くないし清潔でした",
        "朝食がおいしくてつい食べすぎました",
        "旅行が楽しすぎてまた行きたいです",
    ] {
        let found = score(&s, fine);
        assert!(!found.complaint, "{fine}: {:?}", found.cues);
    }
}

fn assert_complaints(s: &Standalone, upset: &[&str], calm: &[&str]) {
    for text in upset {
        let found = score(s, text);
        assert!(found.complaint, "{text}: {:?}", found.cues);
    }
    for text in calm {
        let found = score(s, text);
        assert!(!found.complaint, "{text}: {:?}", found.cues);
    }
}

#[test]
fn a_prohibitive_keeps_its_word_and_bare_it_demands() {
    let s = builtin();
    assert_complaints(
        &s,
        &[
            "ふざけないでください",
            "ふざけないで下さい",
            "勝手にプランを変更しないでください",
            "馬鹿にすんなよ",
            "Don't be so rude to your customers.",
            "Please don't be so rude.",
        ],
        &[
            "心配しないでください、急ぎではありません",
            "The staff were not rude at all.",
            "Don't get me wrong, the new menu is good.",
        ],
    );
    let found = score(&s, "ふざけないで下さい");
    assert!(kinds(&found).contains(&CueKind::Prohibitive), "{found:?}");
    assert!(!kinds(&found).contains(&CueKind::Negation), "{found:?}");
    let found = score(&s, "Don't be so rude.");
    assert!(kinds(&found).contains(&CueKind::Prohibitive), "{found:?}");
}

#[test]
fn a_withdrawn_concession_discounts_its_clause_and_a_kept_contrast_complains() {
    let s = builtin();
    assert_complaints(
        &s,
        &[
            "部屋は良かったのですが、朝食が最悪でした",
            "不満と言えば不満ですが、二度と泊まりません",
            "The room was nice, but the service was terrible.",
            "If I had to complain, the shower was awful, and the bed was worse.",
        ],
        &[
            "待ち時間が長いと言えば長いですが、許容範囲です",
            "不便と言えば不便ですが、問題ないです",
            "If I had to complain, the wifi was a bit slow, but it's fine overall.",
            "My only nitpick is the slow lift, but it's acceptable.",
        ],
    );
    let found = score(&s, "不便と言えば不便ですが、問題ないです");
    let concession = found.cues.iter().find(|c| c.kind == CueKind::Concession);
    assert!(concession.is_some_and(|c| c.weight == 0.0), "{found:?}");
    assert!(
        found
            .cues
            .iter()
            .filter(|c| c.kind == CueKind::Negative)
            .all(|c| c.weight == 0.0),
        "{found:?}"
    );
}

#[test]
fn a_repetition_complains_only_beside_dissatisfaction_or_contacting() {
    let s = builtin();
    assert_complaints(
        &s,
        &[
            "何度も問い合わせているのに返事がありません",
            "何度も電話しました",
            "I've emailed you many times and",
            "I have asked several times for an invoice",
        ],
        &[
            "このホテルには何度も泊まっています",
            "何度も利用している店です。今回も美味しかったです",
            "We have flown with you many times.",
            "I've watched this film many times with my kids",
        ],
    );
    let found = score(&s, "We have flown with you many times.");
    let repeat = found.cues.iter().find(|c| c.term.as_ref() == "many times");
    assert!(repeat.is_some_and(|c| c.weight == 0.0), "{found:?}");
}

#[test]
fn a_neutral_question_is_no_complaint_and_a_complaining_one_is() {
    let s = builtin();
    assert_complaints(
        &s,
        &[
            "なぜこんなに遅いんですか",
            "どうしてこんなにひどい対応なんですか?",
            "Why is this app so bad?",
            "Why is the delivery always so slow?",
        ],
        &[
            "電子レンジで温めても大丈夫ですか",
            "この洗剤を使うと生地が傷みますか",
            "Is it bad to leave the charger plugged in all night?",
            "Would it damage the screen if I use a glass cleaner?",
        ],
    );
    let found = score(&s, "Would it damage the screen if I use a glass cleaner?");
    assert!(kinds(&found).contains(&CueKind::Question), "{found:?}");
}

#[test]
fn praise_beside_a_failure_is_sarcasm_and_sincere_praise_stays() {
    let s = builtin();
    assert_complaints(
        &s,
        &[
            "Great, the train got cancelled again.",
            "Wonderful, charged twice for one ticket.",
            "素晴らしい、また欠航です",
            "さすがですね、また配送が遅れています",
        ],
        &[
            "Great service, thank you!",
            "The support team was great, the fault is fixed now.",
            "素晴らしい対応でした。ありがとうございます",
        ],
    );
    let found = score(&s, "Great, the train got cancelled again.");
    assert!(kinds(&found).contains(&CueKind::Sarcasm), "{found:?}");
}

#[test]
fn a_duration_of_waiting_complains() {
    let s = builtin();
    assert_complaints(
        &s,
        &[
            "電話で2時間待ちました",
            "注文から2週間経過していますがまだ届きません",
            "3回目の問い合わせです",
            "That's three days without a reply.",
        ],
        &[
            "営業時間を教えてください",
            "How many days does delivery take?",
        ],
    );
}

#[test]
fn harmless_excess_stays_neutral() {
    let s = builtin();
    assert_complaints(
        &s,
        &[],
        &[
            "朝食が美味しくて食べすぎました",
            "楽しすぎてあっという間でした",
        ],
    );
}

#[test]
fn a_negation_an_adverb_asks_for_and_a_rhetorical_question_do_not_turn_a_complaint_around() {
    let s = builtin();
    assert_complaints(
        &s,
        &[
            // 全然/全く ask for the negation that follows: it is the complaint.
            "何度更新しても画面が全く進まないです",
            "届いた手袋、サイズが全然合わない",
            // A rhetorical 〜くない？ asks the reader to agree.
            "説明もなしに値上げって、ひどくない？",
            "この対応、ひどくない?",
        ],
        &[
            "全然大丈夫じゃないと思ったら、問題なく使えました",
            // A complete predicate after the adverb is still turned around.
            "写真と全然違わなかったので安心しました",
            "このコート、悪くないです",
            "新しい味、美味しくない？",
        ],
    );
}

#[test]
fn a_reproach_in_the_past_and_a_product_broken_soon_complain() {
    let s = builtin();
    assert_complaints(
        &s,
        &[
            "納期が延びるなら、注文の時点で教えてほしかったです",
            "送料が別だと先に言ってよ",
            "検品くらいしてから出荷してください",
            "イヤホンが3日で壊れました",
            "買ったばかりの充電器が2週間で断線した",
        ],
        &[
            "イヤホンが壊れてしまったので、修理の方法を教えてください",
            "そのくらいなら大丈夫です、ご連絡ありがとうございます",
            "先に言っておくと、急ぎではありません",
            "サイズは問題はないわ、ありがとう",
            "座席からステージは全然見えます",
            "ケーブルが断線したようなので、交換部品を注文できますか",
        ],
    );
}

/// A room that smells or has vermin, food that tasted bad, 〜が悪い and the
/// words of disgust people post complain; the same words about the
/// customer's own convenience, health, the weather or a happy sleepless
/// night do not.
#[test]
fn smells_vermin_bad_taste_and_disgust_complain_and_their_harmless_senses_do_not() {
    let s = builtin();
    assert_complaints(
        &s,
        &[
            "禁煙ルームのはずなのにタバコ臭かった",
            "ベッドの下からゴキブリが出てきました",
            "夕食のカレーがまずかった",
            "エアコンの効きが悪くて寝苦しい夜でした",
            "隣の部屋のいびきが丸聞こえで眠れなかった",
            "店員の態度がでかすぎて胸糞悪い",
            "もう二度とあの店には行かない、もう行かない",
            "The guest room smelled of smoke.",
            "Overbooked and they bumped me off the flight.",
            "Support refused to refund the second charge.",
        ],
        &[
            "都合が悪い日があるので、配達日を変更したいです",
            "体調が悪くて受け取れなかったので、再配達をお願いします",
            "天気が悪いので配達は遅れますか？",
            "楽しみすぎて眠れないくらいです",
            "部屋は全然臭くなかったです",
            "消臭効果はありますか？",
            "つまらないものですが、と添えて贈りたいです",
            "水圧が弱いと感じたらどうすればいいですか？",
            "If the flight is overbooked, can I volunteer to be bumped?",
        ],
    );
}
