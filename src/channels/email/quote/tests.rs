use super::*;

/// A mail body from its lines, with LF line ends.
fn mail(lines: &[&str]) -> String {
    lines.join("\n")
}

fn stripped(text: &str, cuts: &[Cut]) -> Stripped {
    Stripped {
        text: text.to_owned(),
        cuts: cuts.to_vec(),
    }
}

#[test]
fn a_mail_without_history_is_kept_whole() {
    let body = mail(&[
        "Hello,",
        "",
        "I ordered a lamp (order 58213) and it arrived broken.",
        "Can I get a replacement?",
        "",
        "Thanks",
        "",
    ]);
    let expected = "Hello,\n\nI ordered a lamp (order 58213) and it arrived broken.\nCan I get a replacement?\n\nThanks";
    assert_eq!(strip(&body), stripped(expected, &[]));
}

#[test]
fn an_empty_body_stays_empty() {
    assert_eq!(strip(""), stripped("", &[]));
    assert_eq!(strip("\r\n \r\n"), stripped("", &[]));
}

#[test]
fn cut_names() {
    assert_eq!(Cut::QuotedLines.as_str(), "quoted_lines");
    assert_eq!(Cut::ReplyHeader.as_str(), "reply_header");
    assert_eq!(Cut::ForwardedOrOriginal.as_str(), "original_message");
    assert_eq!(Cut::Signature.as_str(), "signature");
}

// Quoted lines.

#[test]
fn quoted_lines_below_a_reply_are_cut() {
    let body = mail(&[
        "返品の手続きが完了したことを確認しました。ありがとうございました。",
        "",
        "> 返品を受け付けました。",
        "> 返金は5営業日以内に行われます。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "返品の手続きが完了したことを確認しました。ありがとうございました。",
            &[Cut::QuotedLines]
        )
    );
}

#[test]
fn full_width_quote_marks_are_quotes() {
    let body = mail(&[
        "承知しました。お届け先は以下の住所でお願いします。",
        "東京都新宿区西新宿2-8-1",
        "",
        "＞お届け先のご住所をお知らせください。",
        "＞ よろしくお願いいたします。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "承知しました。お届け先は以下の住所でお願いします。\n東京都新宿区西新宿2-8-1",
            &[Cut::QuotedLines]
        )
    );
}

#[test]
fn nested_quotes_are_quotes() {
    let body = mail(&[
        "Still nothing has arrived.",
        "",
        "> Your parcel left our warehouse yesterday.",
        ">",
        "> > Where is my order 77120?",
        ">> It was due on Monday.",
    ]);
    assert_eq!(
        strip(&body),
        stripped("Still nothing has arrived.", &[Cut::QuotedLines])
    );
}

#[test]
fn answers_between_quotes_are_kept() {
    let body = mail(&[
        "> Could you tell us the order number?",
        "It is 40917.",
        "",
        "> And the e-mail address you used at checkout?",
        "hanako.sato@example.com",
        "",
        "> Was the package damaged?",
        "> If so, a photo would help.",
        "",
        "Yes, the box was crushed. Photo attached.",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "It is 40917.\n\nhanako.sato@example.com\n\nYes, the box was crushed. Photo attached.",
            &[Cut::QuotedLines]
        )
    );
}

#[test]
fn japanese_answers_between_quotes_are_kept() {
    let body = mail(&[
        "お世話になっております。",
        "",
        "> ご注文番号をお知らせください。",
        "A-20231117-004 です。",
        "",
        "> 商品の状態はいかがでしょうか。",
        "> 写真があれば添付してください。",
        "箱が潰れていて、中のカップが割れていました。写真を添付します。",
        "",
        "佐藤",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "お世話になっております。\n\nA-20231117-004 です。\n\n箱が潰れていて、中のカップが割れていました。写真を添付します。\n\n佐藤",
            &[Cut::QuotedLines]
        )
    );
}

#[test]
fn a_reply_below_the_quote_is_kept() {
    let body = mail(&[
        "＞ご希望の配送日をお知らせください。",
        "＞",
        "",
        "11月20日の午前中でお願いします。",
    ]);
    assert_eq!(
        strip(&body),
        stripped("11月20日の午前中でお願いします。", &[Cut::QuotedLines])
    );
}

// English reply headers.

#[test]
fn gmail_reply_header_and_its_quote_are_cut() {
    let body = mail(&[
        "Hi, the tracking link you sent doesn't work. It says \"not found\".",
        "",
        "Taro",
        "",
        "On Mon, 17 Nov 2023 at 14:06, Acme Support <support@acme.example> wrote:",
        "",
        "> Hello Taro,",
        "> Your order has shipped. Tracking: https://track.example/AB123",
        "> Acme Support",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "Hi, the tracking link you sent doesn't work. It says \"not found\".\n\nTaro",
            &[Cut::ReplyHeader, Cut::QuotedLines]
        )
    );
}

#[test]
fn a_reply_header_wrapped_over_two_lines_is_one_header() {
    let body = mail(&[
        "Thanks, that fixed it!",
        "",
        "On Mon, 17 Nov 2023 at 14:06, Acme Customer Support Team <support@acme.example>",
        "wrote:",
        "",
        "> Please clear the app cache and sign in again.",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "Thanks, that fixed it!",
            &[Cut::ReplyHeader, Cut::QuotedLines]
        )
    );
}

#[test]
fn a_dated_header_ends_the_text_when_the_history_is_not_marked() {
    let body = mail(&[
        "The invoice still shows our old company name. Please reissue it.",
        "",
        "On 2023-11-17 14:06, Acme Billing wrote:",
        "Dear customer,",
        "We have updated your billing details.",
        "Acme Billing",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "The invoice still shows our old company name. Please reissue it.",
            &[Cut::ReplyHeader]
        )
    );
}

#[test]
fn a_reply_below_the_reply_header_and_quote_is_kept() {
    let body = mail(&[
        "On Fri, 17 Nov 2023 at 14:06, Acme Support <support@acme.example> wrote:",
        "> Which size would you like instead?",
        "",
        "Size L, please.",
        "",
        "Hanako",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "Size L, please.\n\nHanako",
            &[Cut::ReplyHeader, Cut::QuotedLines]
        )
    );
}

#[test]
fn a_mail_that_is_only_a_quote_comes_out_empty() {
    let body = mail(&[
        "On Fri, 17 Nov 2023 at 14:06, Acme Support <support@acme.example> wrote:",
        "",
        "> Your refund has been issued.",
    ]);
    assert_eq!(
        strip(&body),
        stripped("", &[Cut::ReplyHeader, Cut::QuotedLines])
    );
}

#[test]
fn thunderbird_dated_header_is_a_reply_header() {
    let body = mail(&[
        "Here is the screenshot you asked for.",
        "",
        "2023/11/17 14:06, Acme Support wrote:",
        "Could you send us a screenshot of the error?",
    ]);
    assert_eq!(
        strip(&body),
        stripped("Here is the screenshot you asked for.", &[Cut::ReplyHeader])
    );
}

// Japanese reply headers.

#[test]
fn gmail_japanese_reply_header_is_a_reply_header() {
    let body = mail(&[
        "お世話になっております。",
        "再送いただいた商品は本日受け取りました。ありがとうございました。",
        "",
        "2023年11月17日(金) 14:06 窓口サポート <support@example.jp>:",
        "",
        "> 佐藤様",
        "> 代替品を本日発送いたしました。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "お世話になっております。\n再送いただいた商品は本日受け取りました。ありがとうございました。",
            &[Cut::ReplyHeader, Cut::QuotedLines]
        )
    );
}

#[test]
fn japanese_header_with_full_width_punctuation_and_no_address() {
    let body = mail(&[
        "請求書の宛名を「株式会社みどり」に変更してください。",
        "",
        "2023年11月17日（金）14:06 窓口サポート：",
        "佐藤様",
        "ご依頼の請求書をお送りします。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "請求書の宛名を「株式会社みどり」に変更してください。",
            &[Cut::ReplyHeader]
        )
    );
}

#[test]
fn gmail_japanese_header_wrapped_over_two_lines_is_one_header() {
    let body = mail(&[
        "了解しました。来週の月曜日にもう一度試してみます。",
        "",
        "2023年11月17日(金) 14:06 窓口サポート",
        "<support@example.jp>:",
        "",
        "> アプリを最新版に更新してください。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "了解しました。来週の月曜日にもう一度試してみます。",
            &[Cut::ReplyHeader, Cut::QuotedLines]
        )
    );
}

#[test]
fn sama_wa_kakimashita_is_a_reply_header() {
    let body = mail(&[
        "添付ファイルが開けませんでした。PDFで送っていただけますか。",
        "",
        "窓口サポート 鈴木様は書きました:",
        "佐藤様",
        "見積書を添付いたします。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "添付ファイルが開けませんでした。PDFで送っていただけますか。",
            &[Cut::ReplyHeader]
        )
    );
}

#[test]
fn san_wa_kakimashita_with_a_full_width_colon_is_a_reply_header() {
    let body = mail(&[
        "ありがとうございます。キャッシュを削除したら直りました。",
        "",
        "サポート担当 鈴木さんは書きました：",
        "佐藤様",
        "ご不便をおかけしております。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "ありがとうございます。キャッシュを削除したら直りました。",
            &[Cut::ReplyHeader]
        )
    );
}

#[test]
fn on_ni_wa_kakimashita_is_a_reply_header() {
    let body = mail(&[
        "注文をキャンセルしたいのですが、まだ間に合いますか？",
        "",
        "On 2023/11/17 14:06 に 窓口ストア は書きました:",
        "佐藤様",
        "ご注文ありがとうございます。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "注文をキャンセルしたいのですが、まだ間に合いますか？",
            &[Cut::ReplyHeader]
        )
    );
}

#[test]
fn a_name_and_wrote_before_a_quote_is_a_reply_header() {
    let body = mail(&[
        "承知しました。明日の午前中なら受け取れます。",
        "",
        "鈴木 一郎 wrote:",
        "> 再配達の希望日時をお知らせください。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "承知しました。明日の午前中なら受け取れます。",
            &[Cut::ReplyHeader, Cut::QuotedLines]
        )
    );
}

#[test]
fn iphone_japanese_reply_header_is_a_reply_header() {
    let body = mail(&[
        "はい、その日時で大丈夫です。",
        "",
        "2023/11/17 14:06、窓口予約センター <yoyaku@example.jp>のメール:",
        "佐藤様",
        "ご予約の日時は11月20日でよろしいでしょうか。",
    ]);
    assert_eq!(
        strip(&body),
        stripped("はい、その日時で大丈夫です。", &[Cut::ReplyHeader])
    );
}

#[test]
fn bottom_posted_japanese_reply_keeps_the_text_below_and_drops_the_signature() {
    let body = mail(&[
        "2023年11月17日(金) 14:06 窓口サポート <support@example.jp>:",
        "> 配送日のご希望はありますか。",
        "",
        "土曜日の午前中でお願いします。",
        "",
        "--",
        "佐藤 花子",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "土曜日の午前中でお願いします。",
            &[Cut::ReplyHeader, Cut::QuotedLines, Cut::Signature]
        )
    );
}

// Original-message and forward markers.

#[test]
fn outlook_original_message_marker_ends_the_text() {
    let body = mail(&[
        "Please cancel the second delivery, I only need one.",
        "",
        "-----Original Message-----",
        "From: Acme Orders <orders@acme.example>",
        "Sent: Friday, November 17, 2023 2:06 PM",
        "To: Hanako Sato <hanako@example.com>",
        "Subject: Your order 58213",
        "",
        "Thank you for your order.",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "Please cancel the second delivery, I only need one.",
            &[Cut::ForwardedOrOriginal]
        )
    );
}

#[test]
fn spaced_original_message_marker_ends_the_text() {
    let body = mail(&[
        "I still have not received the refund.",
        "",
        "----- Original Message -----",
        "Your refund has been issued and should arrive within 5 days.",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "I still have not received the refund.",
            &[Cut::ForwardedOrOriginal]
        )
    );
}

#[test]
fn japanese_original_message_marker_ends_the_text() {
    let body = mail(&[
        "配送先を変更したいです。",
        "新しい住所：大阪府大阪市北区梅田1-1-1",
        "",
        "-------- 元のメッセージ --------",
        "件名: ご注文の確認",
        "ご注文ありがとうございます。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "配送先を変更したいです。\n新しい住所：大阪府大阪市北区梅田1-1-1",
            &[Cut::ForwardedOrOriginal]
        )
    );
}

#[test]
fn a_forward_marker_ends_the_text() {
    let body = mail(&[
        "Hi, I got this mail about my account. Is it genuine? It asks for my password.",
        "",
        "---------- Forwarded message ---------",
        "From: Acme Security <security@acme-login.example>",
        "Date: Fri, 17 Nov 2023 at 14:06",
        "Subject: Verify your account",
        "To: <hanako@example.com>",
        "",
        "Click here to verify your password.",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "Hi, I got this mail about my account. Is it genuine? It asks for my password.",
            &[Cut::ForwardedOrOriginal]
        )
    );
}

#[test]
fn a_japanese_forward_marker_ends_the_text() {
    let body = mail(&[
        "下記のメールが届きましたが、心当たりがありません。",
        "",
        "-------- 転送メッセージ --------",
        "件名: 【重要】お支払い情報の確認",
        "日付: 2023/11/17 14:06",
        "差出人: 窓口ストア <info@example.jp>",
        "",
        "お支払い情報を更新してください。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "下記のメールが届きましたが、心当たりがありません。",
            &[Cut::ForwardedOrOriginal]
        )
    );
}

#[test]
fn a_forward_with_nothing_written_above_comes_out_empty() {
    let body = mail(&[
        "---------- Forwarded message ---------",
        "From: Acme Orders <orders@acme.example>",
        "Date: Fri, 17 Nov 2023 at 14:06",
        "Subject: Your order 58213 has been cancelled",
        "",
        "Your order has been cancelled.",
    ]);
    assert_eq!(strip(&body), stripped("", &[Cut::ForwardedOrOriginal]));
}

#[test]
fn apple_mail_forward_marker_ends_the_text() {
    let body = mail(&[
        "Is this order confirmation correct? I only ordered one.",
        "",
        "Begin forwarded message:",
        "",
        "From: Acme Orders <orders@acme.example>",
        "Subject: Order 58213: 2 items",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "Is this order confirmation correct? I only ordered one.",
            &[Cut::ForwardedOrOriginal]
        )
    );
}

// Outlook's header block.

#[test]
fn outlook_header_block_ends_the_text() {
    let body = mail(&[
        "Yes, please go ahead with the exchange for size M.",
        "",
        "Best regards,",
        "Hanako Sato",
        "",
        "From: Acme Support <support@acme.example>",
        "Sent: Friday, November 17, 2023 2:06 PM",
        "To: Hanako Sato <hanako@example.com>",
        "Subject: RE: Exchange request",
        "",
        "Hello Hanako,",
        "Would you like to exchange the item for size M?",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "Yes, please go ahead with the exchange for size M.\n\nBest regards,\nHanako Sato",
            &[Cut::ForwardedOrOriginal]
        )
    );
}

#[test]
fn japanese_outlook_header_block_ends_the_text() {
    let body = mail(&[
        "見積書を確認しました。この内容で発注します。",
        "",
        "差出人: 窓口サポート <support@example.jp>",
        "送信日時: 2023年11月17日 14:06",
        "宛先: 佐藤 花子 <hanako@example.jp>",
        "件名: RE: 見積もりのご依頼",
        "",
        "佐藤様",
        "お見積書をお送りします。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "見積書を確認しました。この内容で発注します。",
            &[Cut::ForwardedOrOriginal]
        )
    );
}

#[test]
fn outlook_underscore_rule_above_the_header_block_is_cut_with_it() {
    let body = mail(&[
        "I'd like to cancel the subscription at the end of this month.",
        "",
        "________________________________",
        "From: Acme Billing <billing@acme.example>",
        "Sent: Friday, November 17, 2023 2:06 PM",
        "To: Hanako Sato",
        "Subject: Your subscription renews soon",
        "",
        "Your plan renews on December 1.",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "I'd like to cancel the subscription at the end of this month.",
            &[Cut::ForwardedOrOriginal]
        )
    );
}

#[test]
fn a_from_line_in_the_customers_text_is_not_a_header_block() {
    let body = mail(&[
        "Hello,",
        "I have two accounts and would like to merge them.",
        "From: hanako.old@example.com",
        "To: hanako.sato@example.com",
        "Can you move my order history to the new one?",
        "Thanks, Hanako",
    ]);
    assert_eq!(strip(&body), stripped(&body, &[]));
}

// Signatures.

#[test]
fn dash_dash_space_signature_is_cut() {
    let body = mail(&[
        "My package says delivered but it is not here. Order 58213.",
        "",
        "-- ",
        "Hanako Sato",
        "Product Designer, Example Works",
        "+81 90-1234-5678",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "My package says delivered but it is not here. Order 58213.",
            &[Cut::Signature]
        )
    );
}

#[test]
fn dash_dash_without_the_space_is_a_signature_separator_too() {
    let body = mail(&[
        "ログインできなくなりました。パスワード再設定のメールも届きません。",
        "",
        "--",
        "佐藤 花子",
        "hanako@example.jp",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "ログインできなくなりました。パスワード再設定のメールも届きません。",
            &[Cut::Signature]
        )
    );
}

#[test]
fn japanese_boxed_signature_is_cut() {
    let body = mail(&[
        "いつもお世話になっております。",
        "株式会社みどり商事の佐藤です。",
        "",
        "11月分の請求書を再発行していただけますでしょうか。",
        "宛名を「株式会社みどり商事 経理部」に変更をお願いします。",
        "",
        "よろしくお願いいたします。",
        "",
        "━━━━━━━━━━━━━━━━━━",
        "株式会社みどり商事 経理部",
        "佐藤 花子",
        "〒530-0001 大阪府大阪市北区梅田1-1-1",
        "TEL: 06-1234-5678 / FAX: 06-1234-5679",
        "Mail: hanako.sato@midori.example.jp",
        "URL: https://midori.example.jp/",
        "━━━━━━━━━━━━━━━━━━",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "いつもお世話になっております。\n株式会社みどり商事の佐藤です。\n\n11月分の請求書を再発行していただけますでしょうか。\n宛名を「株式会社みどり商事 経理部」に変更をお願いします。\n\nよろしくお願いいたします。",
            &[Cut::Signature]
        )
    );
}

#[test]
fn equals_rule_signature_is_cut() {
    let body = mail(&[
        "Could you add two more seats to our team plan?",
        "",
        "Thanks,",
        "Hanako",
        "",
        "==========",
        "Hanako Sato",
        "IT Manager | Example Works Co., Ltd.",
        "Tel: +81-3-1234-5678",
        "https://works.example.com",
        "==========",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "Could you add two more seats to our team plan?\n\nThanks,\nHanako",
            &[Cut::Signature]
        )
    );
}

#[test]
fn hyphen_rule_signature_is_cut() {
    let body = mail(&[
        "領収書の発行をお願いします。",
        "",
        "--------------------",
        "佐藤 花子",
        "hanako@example.jp",
        "090-1234-5678",
        "--------------------",
    ]);
    assert_eq!(
        strip(&body),
        stripped("領収書の発行をお願いします。", &[Cut::Signature])
    );
}

#[test]
fn full_width_asterisk_rule_signature_is_cut() {
    let body = mail(&[
        "解約の手続き方法を教えてください。",
        "",
        "＊＊＊＊＊＊＊＊＊＊",
        "有限会社さくら工房",
        "佐藤 花子",
        "TEL 03-1234-5678",
        "＊＊＊＊＊＊＊＊＊＊",
    ]);
    assert_eq!(
        strip(&body),
        stripped("解約の手続き方法を教えてください。", &[Cut::Signature])
    );
}

#[test]
fn rule_lines_in_signature_styles() {
    for rule in [
        "━━━━━━━━━━━━",
        "==========",
        "--------------------",
        "＊＊＊＊＊",
        "＝＝＝＝＝＝",
        "－－－－－－",
        "──────",
        "〜〜〜〜〜〜",
        "~~~~~~~~",
        "※※※※※※",
        "________",
        "-=-=-=-=-=",
        "*-*-*-*-*",
        "* * * * *",
    ] {
        assert!(is_rule(rule), "{rule}");
    }
    for not_rule in ["---", "==", "--- 以上 ---", "--", "***注意***", "1-2-3-4"] {
        assert!(!is_rule(not_rule), "{not_rule}");
    }
}

#[test]
fn a_signature_ends_before_the_history_below_it() {
    let body = mail(&[
        "Could you resend the activation code? The first one expired.",
        "",
        "-- ",
        "Hanako Sato",
        "",
        "On Friday, 17 November 2023 at 14:06, Acme Customer Support <support@acme.example> wrote:",
        "> Here is your activation code: 123456",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "Could you resend the activation code? The first one expired.",
            &[Cut::Signature]
        )
    );
}

#[test]
fn sent_from_my_iphone_is_a_signature() {
    let body = mail(&[
        "Is the store open on Sunday?",
        "",
        "Sent from my iPhone",
        "",
        "> On Nov 17, 2023, at 14:06, Acme Store <store@acme.example> wrote:",
        "> Thank you for visiting.",
    ]);
    assert_eq!(
        strip(&body),
        stripped("Is the store open on Sunday?", &[Cut::Signature])
    );
}

#[test]
fn iphone_kara_soushin_is_a_signature() {
    let body = mail(&[
        "明日の予約を18時に変更できますか？",
        "",
        "iPhoneから送信",
        "",
        "2023/11/17 14:06、窓口予約センター <yoyaku@example.jp>のメール:",
        "",
        "> ご予約ありがとうございます。",
    ]);
    assert_eq!(
        strip(&body),
        stripped("明日の予約を18時に変更できますか？", &[Cut::Signature])
    );
}

#[test]
fn android_kara_soushin_is_a_signature() {
    let body = mail(&["ポイントが反映されていません。", "Android から送信"]);
    assert_eq!(
        strip(&body),
        stripped("ポイントが反映されていません。", &[Cut::Signature])
    );
}

#[test]
fn a_mobile_line_above_the_customers_text_is_cut_and_the_text_below_kept() {
    let body = mail(&[
        "iPhoneから送信",
        "",
        "> 受け取りの日時をお選びください。",
        "",
        "20日の午前中でお願いします。",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "20日の午前中でお願いします。",
            &[Cut::Signature, Cut::QuotedLines]
        )
    );
}

#[test]
fn get_outlook_for_ios_is_a_signature() {
    let body = mail(&[
        "Please send the receipt to my work address instead.",
        "",
        "Get Outlook for iOS",
        "________________________________",
        "From: Acme Orders <orders@acme.example>",
        "Sent: Friday, November 17, 2023 2:06 PM",
        "To: Hanako Sato",
        "Subject: Your receipt",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "Please send the receipt to my work address instead.",
            &[Cut::Signature]
        )
    );
}

// Line ends and indentation.

#[test]
fn crlf_line_ends_are_read_and_not_kept() {
    let body = [
        "The discount was not applied to order 58213.",
        "",
        "-- ",
        "Hanako Sato",
        "",
        "On Fri, 17 Nov 2023 at 14:06, Acme Support <support@acme.example> wrote:",
        "> Your order total is 4,800 yen.",
    ]
    .join("\r\n");
    assert_eq!(
        strip(&body),
        stripped(
            "The discount was not applied to order 58213.",
            &[Cut::Signature]
        )
    );
}

#[test]
fn crlf_japanese_outlook_block_is_found() {
    let body = [
        "来月から配送先を本社に変更してください。",
        "",
        "差出人： 窓口サポート <support@example.jp>",
        "送信日時： 2023年11月17日 14:06",
        "宛先： 佐藤 花子",
        "件名： RE: 配送先の変更",
        "",
        "佐藤様",
    ]
    .join("\r\n");
    assert_eq!(
        strip(&body),
        stripped(
            "来月から配送先を本社に変更してください。",
            &[Cut::ForwardedOrOriginal]
        )
    );
}

#[test]
fn indented_markers_and_quotes_are_found() {
    let body = mail(&[
        "  The coupon code SPRING10 is rejected at checkout.",
        "",
        "   > Please try the code again.",
        "",
        "\t-----Original Message-----",
        "\tFrom: Acme Store <store@acme.example>",
    ]);
    assert_eq!(
        strip(&body),
        stripped(
            "The coupon code SPRING10 is rejected at checkout.",
            &[Cut::QuotedLines, Cut::ForwardedOrOriginal]
        )
    );
}

// What is not history or a signature.

#[test]
fn a_divider_between_paragraphs_of_the_question_is_kept() {
    let body = mail(&[
        "I have two questions about my subscription.",
        "",
        "1. Can I pause it for a month?",
        "",
        "----",
        "",
        "2. If I cancel, do I keep access until the end of the billing period?",
        "Our office number is 03-1234-5678",
        "",
        "Thanks,",
        "Hanako",
    ]);
    assert_eq!(strip(&body), stripped(&body, &[]));
}

#[test]
fn japanese_dividers_between_topics_are_kept() {
    let body = mail(&[
        "ご相談が2点あります。",
        "",
        "━━━━━━━━━━",
        "【1】配送について",
        "注文番号 A-20231117-004 の配送日を変更したいです。",
        "━━━━━━━━━━",
        "【2】支払いについて",
        "請求書払いに変更できますか？",
        "",
        "株式会社みどり商事 佐藤",
    ]);
    assert_eq!(strip(&body), stripped(&body, &[]));
}

#[test]
fn a_rule_above_lines_without_contact_details_is_a_divider() {
    let body = mail(&[
        "返品について質問です。",
        "",
        "～～～～～～～～～～",
        "未開封なら返品できますか",
        "開封済みでも初期不良なら交換できますか",
    ]);
    assert_eq!(strip(&body), stripped(&body, &[]));
}

#[test]
fn a_rule_above_more_than_a_signature_is_a_divider() {
    let body = mail(&[
        "These orders arrived without the charger:",
        "----------",
        "58213",
        "58214",
        "58301",
        "58302",
        "58377",
        "58390",
        "58391",
        "58402",
        "58415",
        "58420",
        "58433",
        "Call me at 090-1234-5678 if needed",
    ]);
    assert_eq!(strip(&body), stripped(&body, &[]));
}

#[test]
fn a_rule_at_the_top_does_not_empty_the_mail() {
    let body = mail(&[
        "━━━━━━━━━━",
        "株式会社みどり商事 佐藤です",
        "請求書の宛名変更のお願い",
        "TEL 06-1234-5678",
    ]);
    assert_eq!(strip(&body), stripped(&body, &[]));
}

#[test]
fn wrote_inside_a_sentence_is_not_a_reply_header() {
    let body = mail(&[
        "Your colleague wrote: \"the refund takes 3 days\" but it has been two weeks.",
        "On 17 Nov I wrote: please call me back. Nobody did.",
        "",
        "Hanako",
    ]);
    assert_eq!(strip(&body), stripped(&body, &[]));
}

#[test]
fn wrote_at_the_end_of_a_line_without_a_quote_below_is_kept() {
    let body = mail(&[
        "In my last mail I wrote:",
        "the box arrived open and the charger was missing.",
        "Could you send a new charger?",
    ]);
    assert_eq!(strip(&body), stripped(&body, &[]));
}

#[test]
fn a_sentence_starting_with_a_date_is_not_a_reply_header() {
    let body = mail(&[
        "2023年11月17日(金) 14:00 に注文した商品：",
        "・ブルーのマグカップ 2個",
        "・ソーサー 2枚",
        "まだ届いていません。",
    ]);
    assert_eq!(strip(&body), stripped(&body, &[]));
}

#[test]
fn a_mobile_program_named_in_a_sentence_is_kept() {
    let body = "I sent from my iPhone the photos of the damage but got no reply.";
    assert_eq!(strip(body), stripped(body, &[]));
}

#[test]
fn a_mail_of_many_rule_lines_is_read_in_one_pass() {
    // Each rule line once looked at every line below it for a signature:
    // twenty thousand of them took minutes.
    let body = format!("送料はいくらですか？\n{}", "----------\n".repeat(20_000));
    let result = strip(&body);
    assert!(result.text.starts_with("送料はいくらですか？"));
}
