//! What each phase of an IPO puts into a tracker: the firm's advice, the client's answer and what
//! the checks find, as enums with one variant per phase. The lifecycle around them (sent,
//! acknowledged, submitted, confirmed, reminders) is [`crate::domain::tracker`], written once.
//!
//! Adding a phase is a variant in each enum here and a module beside [`bid`]: every dispatch below
//! is an exhaustive `match`, so the compiler lists what the new phase must say.

pub mod allotment;
pub mod bid;
mod lines;
pub mod notice;
mod reading;
pub mod sell;
pub mod statement;

pub use lines::{FundLine, FundLines, LinesError};

use crate::domain::calendar::KrxCalendar;
use crate::domain::client::Client;
use crate::domain::ids::FundId;
use crate::domain::regulation::{Regulation, RegulationError};
use crate::domain::stock::Stock;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A phase's content kind. A process's kind decides it; a tracker's advice carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// 수요예측 참여.
    Bid,
    /// 배정내역 및 확약여부 확인.
    Allotment,
    /// 일반 공지.
    Notice,
    /// 상장 후 매도의견: a sale date's orders, and what was sold.
    Sell,
    /// 매매명세서 확인: a confirmed sale's trade statement.
    Statement,
}

/// What a phase asks of the client once the message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asks {
    /// Nothing: the tracker is done when the message is delivered.
    Nothing,
    /// The ✅ button: the tracker is done when it is pressed.
    Acknowledgement,
    /// An acknowledgement, then an answer staff confirm.
    Answer,
}

/// The firm's message to one client, per phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Advice {
    Bid(bid::BidAdvice),
    Allotment(allotment::AllotmentAdvice),
    Notice(notice::NoticeAdvice),
    Sell(sell::SellAdvice),
    Statement(statement::StatementAdvice),
}

/// What the client reports back, per phase; notices have none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Answer {
    Bid(bid::BidAnswer),
    Allotment(allotment::AllotmentAnswer),
    Sell(sell::SellAnswer),
    Statement(statement::StatementAnswer),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth telling staff; nothing wrong.
    Info,
    /// Accepted, but staff should look.
    Warning,
    /// Cannot be right: refused on import, flagged on an answer.
    Error,
}

/// Something a check found about an answer (or a line of advice), per phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Finding {
    Bid(bid::Finding),
    Allotment(allotment::Finding),
    Sell(sell::Finding),
    Statement(statement::Finding),
}

impl Finding {
    pub fn severity(&self) -> Severity {
        match self {
            Finding::Bid(f) => f.severity(),
            Finding::Allotment(f) => f.severity(),
            Finding::Sell(f) => f.severity(),
            Finding::Statement(f) => f.severity(),
        }
    }
}

/// What the checks of an answer may consult.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub client: &'a Client,
    /// The offering the process is about; a notice may have none.
    pub stock: Option<&'a Stock>,
    /// Today in KST: which dated rules apply.
    pub today: NaiveDate,
    pub regulation: &'a Regulation,
    pub calendar: &'a KrxCalendar,
}

/// One fund's values as a person writes them (a reply's line, a staff form, a spreadsheet row),
/// before they are known to be whole. Each phase reads the fields it needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    /// The fund's id or name.
    pub fund: String,
    pub price: Option<String>,
    pub quantity: Option<String>,
    pub lockup: Option<String>,
    /// A statement's gross amount (매매금액).
    pub amount: Option<String>,
    pub commission: Option<String>,
    pub tax: Option<String>,
    /// A statement's net settlement (정산금액).
    pub net: Option<String>,
    /// Free text: why nothing was sold (미매도).
    pub note: Option<String>,
}

/// Why one fund's line cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("{fund}: a bid needs a price")]
    MissingPrice { fund: String },
    #[error("{fund}: a quantity is needed")]
    MissingQuantity { fund: String },
    #[error("{fund}: a lock-up is needed (미확약, 15일, 1개월, 3개월, 6개월)")]
    MissingLockUp { fund: String },
    #[error("{fund}: {reason}")]
    Invalid { fund: String, reason: String },
    #[error("{fund}: {what} is needed")]
    MissingValue { fund: String, what: &'static str },
    #[error("{fund:?} is not one of this client's funds")]
    UnknownFund { fund: String },
}

/// Why a reply could not be read as an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("no answer in the reply")]
    Empty,
    #[error("line {line}: name the fund (this client has several)")]
    WhichFund { line: usize },
    #[error("line {line}: {error}")]
    Line { line: usize, error: LineError },
    #[error("line {line}: {text:?} is not understood")]
    Unreadable { line: usize, text: String },
    #[error("{0}")]
    Lines(#[from] LinesError),
    #[error("this message asks for no answer")]
    NotAnswerable,
}

impl ReplyError {
    /// Whether the text held nothing that looks like an answer (rather than an answer with a
    /// mistake): a client's chat, a thank-you.
    pub fn holds_no_answer(&self) -> bool {
        match self {
            ReplyError::Empty | ReplyError::Unreadable { .. } | ReplyError::NotAnswerable => true,
            ReplyError::WhichFund { .. } | ReplyError::Line { .. } | ReplyError::Lines(_) => false,
        }
    }
}

impl Advice {
    pub fn phase(&self) -> Phase {
        match self {
            Advice::Bid(_) => Phase::Bid,
            Advice::Allotment(_) => Phase::Allotment,
            Advice::Notice(_) => Phase::Notice,
            Advice::Sell(_) => Phase::Sell,
            Advice::Statement(_) => Phase::Statement,
        }
    }

    pub fn asks(&self) -> Asks {
        match self {
            Advice::Bid(_) | Advice::Allotment(_) | Advice::Sell(_) | Advice::Statement(_) => Asks::Answer,
            Advice::Notice(n) if n.acknowledge => Asks::Acknowledgement,
            Advice::Notice(_) => Asks::Nothing,
        }
    }

    /// When the answer can first be due, for a phase whose answer cannot come as soon as the
    /// client acknowledges: a sale's execution report from the session's close
    /// ([`sell::SellAdvice::report_due_from`]). Reminders after ✅ count from it.
    pub fn answer_due_from(&self) -> Option<crate::domain::time::Timestamp> {
        match self {
            Advice::Sell(plan) => Some(plan.report_due_from()),
            Advice::Bid(_) | Advice::Allotment(_) | Advice::Notice(_) | Advice::Statement(_) => None,
        }
    }

    /// The funds the advice is about, in order (none for a notice).
    pub fn funds(&self) -> Vec<&FundId> {
        match self {
            Advice::Bid(a) => a.lines.iter().map(FundLine::fund_id).collect(),
            Advice::Allotment(a) => a.lines.iter().map(FundLine::fund_id).collect(),
            Advice::Sell(a) => a.lines.iter().map(FundLine::fund_id).collect(),
            Advice::Statement(a) => a.lines.iter().map(FundLine::fund_id).collect(),
            Advice::Notice(_) => Vec::new(),
        }
    }

    /// Reads a client's reply as the answer this advice asks for.
    pub fn parse_reply(&self, text: &str, client: &Client) -> Result<Answer, ReplyError> {
        let advised = self.funds();
        match self {
            Advice::Bid(_) => bid::parse_reply(text, client, &advised).map(Answer::Bid),
            Advice::Allotment(_) => allotment::parse_reply(text, client, &advised).map(Answer::Allotment),
            Advice::Sell(a) => sell::parse_reply(text, client, a).map(Answer::Sell),
            Advice::Statement(_) => statement::parse_reply(text, client, &advised).map(Answer::Statement),
            Advice::Notice(_) => Err(ReplyError::NotAnswerable),
        }
    }

    /// Reads values staff entered (read off a screenshot, taken by phone) as an answer.
    pub fn answer_from_lines(&self, client: &Client, lines: &[LineInput]) -> Result<Answer, AnswerInputError> {
        fn parsed<T>(index: usize, r: Result<T, LineError>) -> Result<T, AnswerInputError> {
            r.map_err(|error| AnswerInputError::Line { index, error })
        }
        match self {
            Advice::Bid(_) => {
                let lines = lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| parsed(i, bid::parse_line(client, l)))
                    .collect::<Result<_, _>>()?;
                Ok(Answer::Bid(bid::BidAnswer { lines: FundLines::new(lines)? }))
            }
            Advice::Allotment(_) => {
                let lines = lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| parsed(i, allotment::parse_line(client, l)))
                    .collect::<Result<_, _>>()?;
                Ok(Answer::Allotment(allotment::AllotmentAnswer::new(FundLines::new(lines)?)))
            }
            Advice::Sell(advice) => {
                let lines = lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| parsed(i, sell::parse_line(client, l, advice)))
                    .collect::<Result<_, _>>()?;
                Ok(Answer::Sell(sell::SellAnswer { lines: FundLines::new(lines)? }))
            }
            Advice::Statement(_) => {
                let lines = lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| parsed(i, statement::parse_line(client, l)))
                    .collect::<Result<_, _>>()?;
                Ok(Answer::Statement(statement::StatementAnswer { lines: FundLines::new(lines)? }))
            }
            Advice::Notice(_) => Err(AnswerInputError::NotAnswerable),
        }
    }

    /// Everything the checks find in `answer` against this advice. A rule that cannot be applied
    /// (no tick table for the date) is an error, never an all-clear.
    pub fn check(&self, answer: &Answer, ctx: &Context<'_>) -> Result<Vec<Finding>, RegulationError> {
        // The tracker never holds an answer of another phase than its advice: such a pair finds nothing.
        match (self, answer) {
            (Advice::Bid(advice), Answer::Bid(answer)) => {
                Ok(bid::check(advice, answer, ctx)?.into_iter().map(Finding::Bid).collect())
            }
            (Advice::Allotment(advice), Answer::Allotment(answer)) => {
                Ok(allotment::check(advice, answer, ctx).into_iter().map(Finding::Allotment).collect())
            }
            (Advice::Sell(advice), Answer::Sell(answer)) => {
                Ok(sell::check(advice, answer, ctx)?.into_iter().map(Finding::Sell).collect())
            }
            (Advice::Statement(advice), Answer::Statement(answer)) => {
                Ok(statement::check(advice, answer, ctx)?.into_iter().map(Finding::Statement).collect())
            }
            (Advice::Bid(_), Answer::Allotment(_) | Answer::Sell(_) | Answer::Statement(_))
            | (Advice::Allotment(_), Answer::Bid(_) | Answer::Sell(_) | Answer::Statement(_))
            | (Advice::Sell(_), Answer::Bid(_) | Answer::Allotment(_) | Answer::Statement(_))
            | (Advice::Statement(_), Answer::Bid(_) | Answer::Allotment(_) | Answer::Sell(_))
            | (Advice::Notice(_), Answer::Bid(_) | Answer::Allotment(_) | Answer::Sell(_) | Answer::Statement(_)) => {
                Ok(Vec::new())
            }
        }
    }

    /// The comparison with the advice alone, which needs no dated rules.
    pub fn compare(&self, answer: &Answer) -> Vec<Finding> {
        match (self, answer) {
            (Advice::Bid(advice), Answer::Bid(answer)) => {
                bid::compare(advice, answer).into_iter().map(Finding::Bid).collect()
            }
            (Advice::Allotment(advice), Answer::Allotment(answer)) => {
                allotment::compare(advice, answer).into_iter().map(Finding::Allotment).collect()
            }
            (Advice::Sell(advice), Answer::Sell(answer)) => {
                sell::compare(advice, answer).into_iter().map(Finding::Sell).collect()
            }
            (Advice::Statement(advice), Answer::Statement(answer)) => {
                statement::compare(advice, answer).into_iter().map(Finding::Statement).collect()
            }
            (Advice::Bid(_), Answer::Allotment(_) | Answer::Sell(_) | Answer::Statement(_))
            | (Advice::Allotment(_), Answer::Bid(_) | Answer::Sell(_) | Answer::Statement(_))
            | (Advice::Sell(_), Answer::Bid(_) | Answer::Allotment(_) | Answer::Statement(_))
            | (Advice::Statement(_), Answer::Bid(_) | Answer::Allotment(_) | Answer::Sell(_))
            | (Advice::Notice(_), Answer::Bid(_) | Answer::Allotment(_) | Answer::Sell(_) | Answer::Statement(_)) => {
                Vec::new()
            }
        }
    }
}

impl Answer {
    pub fn phase(&self) -> Phase {
        match self {
            Answer::Bid(_) => Phase::Bid,
            Answer::Allotment(_) => Phase::Allotment,
            Answer::Sell(_) => Phase::Sell,
            Answer::Statement(_) => Phase::Statement,
        }
    }

    /// What staff confirming the answer adds to it: phase 2 records each fund's lock-up release
    /// date (the listing date moves it, so it is computed at confirmation).
    pub fn on_confirm(self, ctx: &Context<'_>) -> Answer {
        match self {
            Answer::Bid(a) => Answer::Bid(a),
            Answer::Allotment(a) => Answer::Allotment(a.with_releases(ctx)),
            Answer::Sell(a) => Answer::Sell(a),
            Answer::Statement(a) => Answer::Statement(a),
        }
    }
}

/// Why values staff entered are not an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerInputError {
    #[error("lines[{index}]: {error}")]
    Line { index: usize, error: LineError },
    #[error("{0}")]
    Lines(#[from] LinesError),
    #[error("a notice asks for no answer")]
    NotAnswerable,
}
