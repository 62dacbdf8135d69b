use super::*;

fn norm(s: &str) -> String {
    normalize(s).as_str().to_owned()
}

#[test]
fn half_width_katakana_meets_full_width_and_hiragana() {
    assert_eq!(norm("ﾊﾟｽﾜｰﾄﾞ"), "パスワード");
    assert_eq!(norm("パスワード"), "パスワード");
    assert_eq!(norm("ぱすわーど"), "パスワード");
}

#[test]
fn half_width_voiced_marks_compose() {
    assert_eq!(norm("ｶﾞｲﾄﾞ"), "ガイド");
    assert_eq!(norm("ﾎﾟｲﾝﾄ"), "ポイント");
}

#[test]
fn full_width_letters_and_digits_become_ascii_lower_case() {
    assert_eq!(norm("ＯＲＤＥＲ　１２３４５"), "order 12345");
    assert_eq!(
        norm("Ｅｍａｉｌ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
        "email@example.com"
    );
}

#[test]
fn long_vowel_variants_fold_to_one_mark() {
    for variant in [
        "メ〜ル",
        "メ～ル",
        "メ−ル",
        "メ-ル",
        "メｰル",
        "メ—ル",
        "メーール",
    ] {
        assert_eq!(norm(variant), "メール", "{variant}");
    }
}

#[test]
fn word_final_long_vowel_is_dropped_so_jis_spellings_meet() {
    assert_eq!(norm("ユーザー"), norm("ユーザ"));
    assert_eq!(norm("ユーザー名"), "ユーザ名");
    assert_eq!(norm("サーバー error"), "サーバ error");
}

#[test]
fn dashes_between_digits_stay_hyphens_and_wave_dash_is_a_tilde() {
    assert_eq!(norm("０３−１２３４−５６７８"), "03-1234-5678");
    assert_eq!(norm("10時〜18時"), "10時~18時");
}

#[test]
fn small_kana_fold_to_full_size() {
    assert_eq!(norm("キャンセル"), norm("キヤンセル"));
    assert_eq!(norm("きゃんせる"), "キヤンセル");
}

#[test]
fn iteration_marks_are_spelled_out() {
    assert_eq!(norm("いすゞ"), "イスズ");
    assert_eq!(norm("人々"), "人人");
}

#[test]
fn white_space_collapses_and_vanishes_between_japanese_characters() {
    assert_eq!(norm("  where   is\tmy\norder  "), "where is my order");
    assert_eq!(norm("パスワード を　忘れた"), "パスワードヲ忘レタ");
    assert_eq!(norm("注文 12345"), "注文 12345");
}

#[test]
fn japanese_punctuation_becomes_ascii_and_brackets_separate() {
    assert_eq!(norm("はい、そうです。"), "ハイ,ソウデス.");
    assert_eq!(norm("「返品」について"), "返品ニツイテ");
    assert_eq!(norm("it’s"), "it's");
    assert_eq!(norm("！？"), "!?");
}

#[test]
fn romaji_is_left_alone() {
    assert_eq!(norm("kyanseru"), "kyanseru");
}

#[test]
fn original_range_maps_back_through_expansions_and_compositions() {
    let original = "ﾊﾟｽﾜｰﾄﾞを忘れた";
    let n = normalize(original);
    let start = n.as_str().find("パスワード").unwrap();
    let range = n.original_range(original, start..start + "パスワード".len());
    assert_eq!(&original[range], "ﾊﾟｽﾜｰﾄﾞ");

    let original = "Ｏｒｄｅｒ　ＡＢ１２";
    let n = normalize(original);
    let start = n.as_str().find("ab12").unwrap();
    assert_eq!(
        &original[n.original_range(original, start..start + 4)],
        "ＡＢ１２"
    );

    // What normalization dropped after the range is not part of it.
    let original = "「HM-1234」です";
    let n = normalize(original);
    let start = n.as_str().find("hm").unwrap();
    let range = n.original_range(original, start..start + "hm-1234".len());
    assert_eq!(&original[range], "HM-1234");
    let original = "キャンセル　したい";
    let n = normalize(original);
    assert_eq!(
        &original[n.original_range(original, 0.."キヤンセル".len())],
        "キャンセル"
    );
    // An empty range stays empty.
    assert_eq!(n.original_range(original, 3..3), 3..3);
}

#[test]
fn detected_locale_follows_the_script() {
    assert_eq!(
        normalize("注文番号 is 123 please").detected_locale(),
        Some(Locale::Ja)
    );
    assert_eq!(
        normalize("Where is my parcel?").detected_locale(),
        Some(Locale::En)
    );
    assert_eq!(
        normalize("Thanks for the quick answer, see you next week 様").detected_locale(),
        Some(Locale::En)
    );
    assert_eq!(normalize("12345").detected_locale(), None);
    assert_eq!(
        normalize("Is the 手ぬぐい in stock?").detected_locale(),
        Some(Locale::En)
    );
    assert_eq!(
        normalize("パスワードをresetしたい").detected_locale(),
        Some(Locale::Ja)
    );
}

#[test]
fn empty_and_symbol_only_input_is_fine() {
    assert_eq!(norm(""), "");
    assert_eq!(norm("　 "), "");
    assert_eq!(norm("ー"), "ー");
}

#[test]
fn original_char_points_at_what_was_typed() {
    let original = "変えられ";
    let n = normalize(original);
    assert_eq!(n.as_str(), "変エラレ");
    assert_eq!(n.original_char(original, "変".len()), Some('え'));
}
