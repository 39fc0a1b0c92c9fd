//! The semantic KYC rules of the built-in verifier (SPEC §4).
//!
//! Every value reaching these functions already passed its edge rules (it is a parsed
//! `kyc_model` value); these rules decide whether a well-formed value is plausible for KYC.
//! Each function is pure, allocation-free apart from phone-number parsing, and reports the
//! first rule that fails as a [`SemanticFailure`]: a [`ProcessReason`] for the process report and
//! a stable snake_case rule name. Neither ever carries the value.
//!
//! Reasons, chosen so an operator can act on them:
//! - `underage` for an age below 18 (the only age failure a person grows out of);
//! - `fraud` for a published advertising SSN and for test-pattern names: nobody enters those by
//!   accident;
//! - `data-mismatch` for everything else (ZIP not of the state, impossible SSN ranges, too old, a
//!   birth date in the future, a phone number no carrier could hold).

use kyc_model::{
    Address, AddressRegion, DateOfBirth, Gender, PersonName, PersonalData, Phone, ProcessReason,
    Ssn,
};
use time::{Date, OffsetDateTime};

use crate::ImportOutput;

/// Why a value failed a KYC rule. `rule` is stable and never contains the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemanticFailure {
    /// The process reason to report.
    pub reason: ProcessReason,
    /// The stable rule name, e.g. `ssn_area`.
    pub rule: &'static str,
}

impl SemanticFailure {
    const fn new(reason: ProcessReason, rule: &'static str) -> Self {
        Self { reason, rule }
    }
}

impl std::fmt::Display for SemanticFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.rule, self.reason.as_str())
    }
}

/// Every rule name this module can return, for documentation and exhaustive tests.
pub const RULES: [&str; 14] = [
    "name_test_pattern",
    "phone_not_valid",
    "zip_state_mismatch",
    "zip_unassigned",
    "ssn_area",
    "ssn_group",
    "ssn_serial",
    "ssn_advertising",
    "future_birth_date",
    "age_under_18",
    "age_over_99",
    "document_expired",
    "verified_in_future",
    "import_mismatch",
];

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// Words nobody is called: one of them anywhere in the name fails.
///
/// `sample` and `test` are (rare) real surnames; they are kept because integrators' test data is
/// far more common than those people, and a failure only sends the identity to manual review.
const PLACEHOLDER_WORDS: &[&str] = &[
    "abc",
    "asdf",
    "asdfgh",
    "azerty",
    "dummy",
    "fake",
    "firstname",
    "foobar",
    "ipsum",
    "lastname",
    "lorem",
    "noname",
    "null",
    "placeholder",
    "qwer",
    "qwerty",
    "qwertz",
    "sample",
    "test",
    "tester",
    "testing",
    "testname",
    "testuser",
    "undefined",
    "unknown",
    "xyz",
    "zxcv",
];

/// Words that are real names on their own (Foo and Bar are real surnames) but a test pattern when
/// the whole name is made of them and the words above, as in "Foo Bar" or "First Last".
const FILLER_WORDS: &[&str] = &[
    "bar", "baz", "demo", "example", "first", "foo", "last", "middle", "mr", "mrs", "ms", "name",
    "qux", "user",
];

/// Keyboard rows (QWERTY, AZERTY) and the alphabet: a word of at least `KEYBOARD_RUN` letters
/// that runs along one of them, either way, is a test pattern. Five letters, because four-letter
/// runs include real names ("Azer", "Wert").
const KEYBOARD_ROWS: &[&[u8]] = &[
    b"qwertyuiop",
    b"asdfghjkl",
    b"zxcvbnm",
    b"azertyuiop",
    b"qsdfghjklm",
    b"wxcvbn",
    b"abcdefghijklmnopqrstuvwxyz",
];
const KEYBOARD_RUN: usize = 5;

/// A letter repeated this many times makes a word a test pattern ("xxx", "aaaa"); two is too few,
/// as "Ee" and "Oo" are real names.
const REPEAT_RUN: usize = 3;

fn in_list(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

fn is_repeated_letter(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let mut n = 1;
    for c in chars {
        if !c.to_lowercase().eq(first.to_lowercase()) {
            return false;
        }
        n += 1;
    }
    n >= REPEAT_RUN
}

fn is_keyboard_run(word: &str) -> bool {
    let len = word.len();
    if len < KEYBOARD_RUN || !word.is_ascii() {
        return false;
    }
    let w = word.as_bytes();
    KEYBOARD_ROWS.iter().any(|row| {
        row.windows(len).any(|win| {
            win.eq_ignore_ascii_case(w)
                || win
                    .iter()
                    .rev()
                    .zip(w)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        })
    })
}

/// The words of a name part: runs of letters and combining marks, split at spaces, hyphens,
/// apostrophes and periods.
fn words(part: &str) -> impl Iterator<Item = &str> {
    part.split([' ', '-', '\'', '\u{2019}', '.'])
        .filter(|w| !w.is_empty())
}

/// Fails names that are test data rather than a person (`name_test_pattern`, reason `fraud`):
/// a placeholder word ("Test", "Lorem", "Asdf"), a letter repeated three or more times ("Xxx"),
/// a run of five or more keys along a keyboard row or the alphabet ("Qwerty", "Abcde"), or a
/// name made only of filler words ("Foo Bar", "First Last"). "John Doe" passes: it is the seeds'
/// own sample. Names in any script pass unless they repeat one letter.
pub fn check_name(
    first: &PersonName,
    middle: Option<&PersonName>,
    last: &PersonName,
) -> Result<(), SemanticFailure> {
    const FAIL: SemanticFailure = SemanticFailure::new(ProcessReason::Fraud, "name_test_pattern");
    let parts = [Some(first), middle, Some(last)];
    let all_words = || parts.into_iter().flatten().flat_map(|p| words(p.as_str()));
    let bad_word =
        |w: &str| in_list(w, PLACEHOLDER_WORDS) || is_repeated_letter(w) || is_keyboard_run(w);
    if all_words().any(bad_word) {
        return Err(FAIL);
    }
    if all_words().all(|w| in_list(w, FILLER_WORDS) || in_list(w, PLACEHOLDER_WORDS)) {
        return Err(FAIL);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Phone
// ---------------------------------------------------------------------------------------------

/// Fails a number that is possible but not valid for its country (`phone_not_valid`,
/// `data-mismatch`): its digits match no number range (fixed line, mobile, toll free...) of the
/// numbering plan, per libphonenumber's metadata.
pub fn check_phone(phone: &Phone) -> Result<(), SemanticFailure> {
    let valid = phonenumber::parse(None, phone.as_str()).is_ok_and(|n| n.is_valid());
    if valid {
        Ok(())
    } else {
        Err(SemanticFailure::new(
            ProcessReason::DataMismatch,
            "phone_not_valid",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Address
// ---------------------------------------------------------------------------------------------

/// A USPS code packed into a `u16`, so the prefix table is plain data.
const fn code(c: &[u8; 2]) -> u16 {
    ((c[0] as u16) << 8) | c[1] as u16
}

/// Prefix 969 is shared by the Pacific territories and freely associated states.
const PACIFIC: u16 = 1;
const UNASSIGNED: u16 = 0;

/// USPS 3-digit ZIP prefix allocation: inclusive ranges of prefixes and the state or territory
/// they serve. Prefixes in no range are not in use and fail. Exceptions inside a state's span
/// (055 MA inside Vermont, 201 VA inside DC, 340 AA inside Florida, 733 TX inside Oklahoma) are
/// listed after the span, so later entries win.
const PREFIX_RANGES: &[(u16, u16, u16)] = &[
    (5, 5, code(b"NY")),
    (6, 7, code(b"PR")),
    (8, 8, code(b"VI")),
    (9, 9, code(b"PR")),
    (10, 27, code(b"MA")),
    (28, 29, code(b"RI")),
    (30, 38, code(b"NH")),
    (39, 49, code(b"ME")),
    (50, 59, code(b"VT")),
    (55, 55, code(b"MA")),
    (60, 69, code(b"CT")),
    (70, 89, code(b"NJ")),
    (90, 98, code(b"AE")),
    (100, 149, code(b"NY")),
    (150, 196, code(b"PA")),
    (197, 199, code(b"DE")),
    (200, 205, code(b"DC")),
    (201, 201, code(b"VA")),
    (206, 212, code(b"MD")),
    (214, 219, code(b"MD")),
    (220, 246, code(b"VA")),
    (247, 268, code(b"WV")),
    (270, 289, code(b"NC")),
    (290, 299, code(b"SC")),
    (300, 319, code(b"GA")),
    (320, 342, code(b"FL")),
    (340, 340, code(b"AA")),
    (344, 344, code(b"FL")),
    (346, 347, code(b"FL")),
    (349, 349, code(b"FL")),
    (350, 352, code(b"AL")),
    (354, 369, code(b"AL")),
    (370, 385, code(b"TN")),
    (386, 397, code(b"MS")),
    (398, 399, code(b"GA")),
    (400, 418, code(b"KY")),
    (420, 427, code(b"KY")),
    (430, 459, code(b"OH")),
    (460, 479, code(b"IN")),
    (480, 499, code(b"MI")),
    (500, 516, code(b"IA")),
    (520, 528, code(b"IA")),
    (530, 532, code(b"WI")),
    (534, 535, code(b"WI")),
    (537, 549, code(b"WI")),
    (550, 551, code(b"MN")),
    (553, 567, code(b"MN")),
    (569, 569, code(b"DC")),
    (570, 577, code(b"SD")),
    (580, 588, code(b"ND")),
    (590, 599, code(b"MT")),
    (600, 620, code(b"IL")),
    (622, 629, code(b"IL")),
    (630, 631, code(b"MO")),
    (633, 641, code(b"MO")),
    (644, 658, code(b"MO")),
    (660, 662, code(b"KS")),
    (664, 679, code(b"KS")),
    (680, 681, code(b"NE")),
    (683, 693, code(b"NE")),
    (700, 701, code(b"LA")),
    (703, 708, code(b"LA")),
    (710, 714, code(b"LA")),
    (716, 729, code(b"AR")),
    (730, 731, code(b"OK")),
    (733, 733, code(b"TX")),
    (734, 741, code(b"OK")),
    (743, 749, code(b"OK")),
    (750, 770, code(b"TX")),
    (772, 799, code(b"TX")),
    (800, 816, code(b"CO")),
    (820, 831, code(b"WY")),
    (832, 838, code(b"ID")),
    (840, 847, code(b"UT")),
    (850, 850, code(b"AZ")),
    (852, 853, code(b"AZ")),
    (855, 857, code(b"AZ")),
    (859, 860, code(b"AZ")),
    (863, 865, code(b"AZ")),
    (870, 875, code(b"NM")),
    (877, 884, code(b"NM")),
    (885, 885, code(b"TX")),
    (889, 891, code(b"NV")),
    (893, 895, code(b"NV")),
    (897, 898, code(b"NV")),
    (900, 908, code(b"CA")),
    (910, 928, code(b"CA")),
    (930, 961, code(b"CA")),
    (962, 966, code(b"AP")),
    (967, 968, code(b"HI")),
    (969, 969, PACIFIC),
    (970, 979, code(b"OR")),
    (980, 986, code(b"WA")),
    (988, 994, code(b"WA")),
    (995, 999, code(b"AK")),
];

/// The state owning each 3-digit prefix, built at compile time from [`PREFIX_RANGES`].
static PREFIX_TABLE: [u16; 1000] = {
    let mut table = [UNASSIGNED; 1000];
    let mut i = 0;
    while i < PREFIX_RANGES.len() {
        let (lo, hi, state) = PREFIX_RANGES[i];
        let mut p = lo;
        while p <= hi {
            table[p as usize] = state;
            p += 1;
        }
        i += 1;
    }
    table
};

/// Prefix 969: Guam, the Northern Mariana Islands, Palau, Micronesia and the Marshall Islands.
const PACIFIC_STATES: [u16; 5] = [
    code(b"GU"),
    code(b"MP"),
    code(b"PW"),
    code(b"FM"),
    code(b"MH"),
];

/// Fails a US address whose ZIP does not belong to its state (`zip_state_mismatch`) or whose
/// prefix USPS does not use (`zip_unassigned`), both `data-mismatch`. The first three digits of a
/// ZIP name the sectional center facility, which lies in exactly one state, except 969 (shared by
/// GU, MP, PW, FM and MH) and 96799, American Samoa's only ZIP, inside Hawaii's 967. Non-US
/// addresses pass: there is no reliable worldwide equivalent.
pub fn check_address(address: &Address) -> Result<(), SemanticFailure> {
    let AddressRegion::Us { state, zip } = address.region() else {
        return Ok(());
    };
    let mismatch = SemanticFailure::new(ProcessReason::DataMismatch, "zip_state_mismatch");
    let state = match state.as_str().as_bytes() {
        &[a, b] => code(&[a, b]),
        _ => UNASSIGNED,
    };
    let zip = zip.as_str();
    if zip == "96799" {
        return if state == code(b"AS") {
            Ok(())
        } else {
            Err(mismatch)
        };
    }
    let owner = zip
        .as_bytes()
        .get(..3)
        .and_then(|p| {
            p.iter().try_fold(0usize, |acc, &b| {
                b.is_ascii_digit().then(|| acc * 10 + usize::from(b - b'0'))
            })
        })
        .and_then(|p| PREFIX_TABLE.get(p).copied())
        .unwrap_or(UNASSIGNED);
    match owner {
        UNASSIGNED => Err(SemanticFailure::new(
            ProcessReason::DataMismatch,
            "zip_unassigned",
        )),
        PACIFIC if PACIFIC_STATES.contains(&state) => Ok(()),
        s if s == state => Ok(()),
        _ => Err(mismatch),
    }
}

// ---------------------------------------------------------------------------------------------
// SSN
// ---------------------------------------------------------------------------------------------

/// SSNs published in advertising or documentation, used by many people who were not issued
/// them: the Woolworth wallet card, the SSA's 1940s pamphlet, LifeLock's advertised number and
/// the ubiquitous sequence.
const ADVERTISING_SSNS: [&str; 4] = ["078051120", "219099999", "457555462", "123456789"];

/// Fails an SSN the SSA never issues: area 000, 666 or 900-999 (`ssn_area`), group 00
/// (`ssn_group`), serial 0000 (`ssn_serial`), all `data-mismatch`; or a number published in
/// advertising (`ssn_advertising`, `fraud`).
pub fn check_ssn(ssn: &Ssn) -> Result<(), SemanticFailure> {
    let area = ssn.area();
    if area == "000" || area == "666" || area.starts_with('9') {
        return Err(SemanticFailure::new(
            ProcessReason::DataMismatch,
            "ssn_area",
        ));
    }
    if ssn.group() == "00" {
        return Err(SemanticFailure::new(
            ProcessReason::DataMismatch,
            "ssn_group",
        ));
    }
    if ssn.serial() == "0000" {
        return Err(SemanticFailure::new(
            ProcessReason::DataMismatch,
            "ssn_serial",
        ));
    }
    if ADVERTISING_SSNS.contains(&ssn.as_str()) {
        return Err(SemanticFailure::new(
            ProcessReason::Fraud,
            "ssn_advertising",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Date of birth
// ---------------------------------------------------------------------------------------------

/// Age in whole years on `today`. A birthday not yet reached this year does not count; someone
/// born on 29 February reaches each age on 1 March in non-leap years (their birthday, 29 Feb,
/// does not exist, and 28 Feb is still before it), which is also how most legal systems
/// count it (e.g. UK, US states with statutes on the question).
fn age_on(dob: Date, today: Date) -> i32 {
    let years = today.year() - dob.year();
    let before_birthday =
        (u8::from(today.month()), today.day()) < (u8::from(dob.month()), dob.day());
    years - i32::from(before_birthday)
}

/// Fails a birth date after `today` (`future_birth_date`, `data-mismatch`), an age under 18
/// (`age_under_18`, `underage`) or over 99 (`age_over_99`, `data-mismatch`). The 18th birthday
/// itself passes; the day before fails. `today` is injected so the rule is deterministic.
pub fn check_date_of_birth(dob: DateOfBirth, today: Date) -> Result<(), SemanticFailure> {
    let dob = dob.date();
    if dob > today {
        return Err(SemanticFailure::new(
            ProcessReason::DataMismatch,
            "future_birth_date",
        ));
    }
    let age = age_on(dob, today);
    if age < 18 {
        Err(SemanticFailure::new(
            ProcessReason::Underage,
            "age_under_18",
        ))
    } else if age > 99 {
        Err(SemanticFailure::new(
            ProcessReason::DataMismatch,
            "age_over_99",
        ))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Imported verifications (SPEC §7)
// ---------------------------------------------------------------------------------------------

/// Fails an imported verification that cannot be trusted as of `now`: a document that expired
/// before today (`document_expired`, `expired-document`; valid through its expiry day), a
/// verification time in the future (`verified_in_future`, `data-mismatch`), or a person the
/// date-of-birth rule refuses (`age_under_18`, `age_over_99`, `future_birth_date`).
pub fn check_import(output: &ImportOutput, now: OffsetDateTime) -> Result<(), SemanticFailure> {
    let today = now.date();
    if output.document.expires_at.is_some_and(|d| d < today) {
        return Err(SemanticFailure::new(
            ProcessReason::ExpiredDocument,
            "document_expired",
        ));
    }
    if output.verified_at > now {
        return Err(SemanticFailure::new(
            ProcessReason::DataMismatch,
            "verified_in_future",
        ));
    }
    check_date_of_birth(output.person.birthdate, today)
}

/// Fails an imported verification of someone else (`import_mismatch`, `data-mismatch`): the
/// family name must equal the last name, the given name the first name (or first and middle
/// names), ignoring case; a birth date on both sides must be equal; a gender on both sides
/// (other than `undefined`) must be equal; an address on both sides must be in the same
/// country with the same postal code (compared without spaces, ignoring case: street lines are
/// written too many ways to compare). Accents are not folded: a provider reads them off the
/// document, so "Jose" for "José" is a mismatch to review.
pub fn check_import_matches(
    output: &ImportOutput,
    person: &PersonalData,
) -> Result<(), SemanticFailure> {
    let fail = SemanticFailure::new(ProcessReason::DataMismatch, "import_mismatch");
    let given = output.person.given_name.as_str();
    let first = person.first_name.as_str();
    let given_ok = eq_caseless(given, first)
        || person.middle_name.as_ref().is_some_and(|middle| {
            given.len() > first.len()
                && given.is_char_boundary(first.len())
                && eq_caseless(&given[..first.len()], first)
                && given[first.len()..]
                    .strip_prefix(' ')
                    .is_some_and(|rest| eq_caseless(rest, middle.as_str()))
        });
    let family_ok = eq_caseless(
        output.person.family_name.as_str(),
        person.last_name.as_str(),
    );
    let birth_ok = person
        .date_of_birth
        .is_none_or(|d| d == output.person.birthdate);
    let gender_ok = match (person.gender, output.person.gender) {
        (Some(ours), Some(theirs)) if ours != Gender::Undefined && theirs != Gender::Undefined => {
            ours == theirs
        }
        _ => true,
    };
    let address_ok = match (&person.address, &output.person.address) {
        (Some(ours), Some(theirs)) => {
            let postal = |a: &Address| -> String {
                a.postal_code()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .flat_map(char::to_uppercase)
                    .collect()
            };
            ours.country() == theirs.country() && postal(ours) == postal(theirs)
        }
        _ => true,
    };
    if given_ok && family_ok && birth_ok && gender_ok && address_ok {
        Ok(())
    } else {
        Err(fail)
    }
}

/// Unicode case-insensitive equality without allocating.
fn eq_caseless(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}
