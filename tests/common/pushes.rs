//! Random pushes for the intact-data tests: realistic envelopes whose `data` holds what
//! breaks re-printing tools — 17-digit floats, integers past 64 bits, exponents, unicode and
//! escapes, nested arrays and objects, duplicate keys, odd spacing. Deterministic per seed.

/// A small deterministic generator (splitmix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// One push as a JSON text on one line, or (with `pretty`) the same tokens across
/// indented lines. Returns (one-line text, the text as published).
pub fn push(rng: &mut Rng, app_id: &str, pretty: bool) -> (String, String) {
    let mut tokens = Vec::new();
    tokens.push("{".to_owned());
    let mut members = vec![
        format!("\"appId\":\"{app_id}\""),
        format!("\"sn\":\"0117C9{:04X}\"", rng.below(0x10000)),
        format!(
            "\"type\":\"{}\"",
            rng.pick(&["text", "alarm", "event", "t\\u00e9xt"])
        ),
        format!(
            "\"deviceType\":\"{}\"",
            rng.pick(&["node", "smoke", "leak", "tracker", "dianbiao"])
        ),
        format!(
            "\"createdTime\":{}",
            1_732_400_000_000u64 + rng.below(1 << 30)
        ),
        format!(
            "\"msgId\":\"{:024x}\"",
            u128::from(rng.next()) << 32 | u128::from(rng.next() >> 32)
        ),
    ];
    members.push(format!("\"data\":{}", object(rng, 0)));
    if rng.below(4) == 0 {
        // A duplicate key, kept as sent.
        members.push(format!("\"sn\":\"dup{}\"", rng.below(100)));
    }
    let count = members.len();
    for (i, member) in members.into_iter().enumerate() {
        let comma = if i + 1 < count { "," } else { "" };
        tokens.push(format!("{member}{comma}"));
    }
    tokens.push("}".to_owned());
    let one_line = tokens.concat();
    let published = if pretty {
        let last = tokens.len() - 1;
        tokens
            .iter()
            .enumerate()
            .map(|(i, t)| match i {
                0 => format!("{t}\n"),
                i if i == last => t.clone(),
                _ => format!("  {t}\n"),
            })
            .collect()
    } else {
        one_line.clone()
    };
    (one_line, published)
}

fn object(rng: &mut Rng, depth: u32) -> String {
    let n = rng.below(if depth == 0 { 7 } else { 4 }) + 1;
    let mut parts = Vec::new();
    for _ in 0..n {
        let key = rng.pick(&[
            "lonlat",
            "temperature",
            "battery",
            "big",
            "e",
            "name",
            "magnetic",
            "k\\\"ey",
            "温度",
            "leak",
            "smoke",
        ]);
        parts.push(format!("\"{key}\":{}", value(rng, depth + 1)));
    }
    format!("{{{}}}", parts.join(","))
}

fn value(rng: &mut Rng, depth: u32) -> String {
    let limit = if depth > 4 { 7 } else { 9 };
    match rng.below(limit) {
        0 => float17(rng),
        1 => format!("[{},{}]", float17(rng), float17(rng)),
        2 => format!(
            "{}{}",
            rng.pick(&["-", ""]),
            rng.pick(&[
                "12345678901234567890123",
                "18446744073709551616",
                "9223372036854775809",
                "0",
                "100000000000000000000000000000000000001"
            ])
        ),
        3 => rng
            .pick(&[
                "1E400",
                "-2.5e-300",
                "1e+05",
                "6.02214076E23",
                "0.1e1",
                "1.50",
                "-0.0",
            ])
            .to_owned(),
        4 => rng
            .pick(&[
                "\"caf\\u00e9 \\\"q\\\" \\\\ \\/ \\n\\t\"",
                "\"中文 ✓ 😀\"",
                "\"\\ud83d\\ude00\"",
                "\"\"",
                "\"x\\u0000y\"",
            ])
            .to_owned(),
        5 => rng.pick(&["true", "false", "null"]).to_owned(),
        6 => format!("{}", rng.below(200) as i64 - 100),
        7 => object(rng, depth),
        _ => format!("[ {} , {} ]", value(rng, depth + 1), value(rng, depth + 1)),
    }
}

/// A double written with 17 significant digits, as lonlat values are.
fn float17(rng: &mut Rng) -> String {
    let whole = rng.below(180);
    let frac = rng.below(100_000_000_000_000);
    let sign = if rng.below(3) == 0 { "-" } else { "" };
    format!("{sign}{whole}.{frac:014}{}", rng.below(10))
}

/// The one-line form of a text from [`push`] without the spaces its arrays may hold: what a
/// minifier makes of it (the generator's strings hold no `[ `, ` , ` or ` ]`).
pub fn minified(text: &str) -> String {
    text.replace("[ ", "[")
        .replace(" , ", ",")
        .replace(" ]", "]")
}

/// `n` pushes, one per line, each a one-line text.
pub fn lines(seed: u64, n: usize, app_id: &str) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| push(&mut rng, app_id, false).0).collect()
}
