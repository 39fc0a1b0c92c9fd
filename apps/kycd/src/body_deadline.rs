//! A request body that stops arriving ends the request: once a body has sent nothing for
//! [`IDLE`], reading it fails with a timeout (`408 request_timeout`), so a client cannot hold a
//! connection and a handler open by sending a body slowly or not at all. actix-web bounds the
//! time to receive a request's head (`client_request_timeout`), not its body.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use actix_web::{
    HttpMessage,
    dev::{Payload, ServiceRequest},
    error::PayloadError,
    http::header,
    web::Bytes,
};
use futures_util::{Stream, StreamExt};
use tokio::time::{Instant, Sleep};

/// The longest a body may go without sending a byte.
pub const IDLE: Duration = Duration::from_secs(10);

/// Puts the request's body, if it has one, under the idle deadline.
pub fn apply(req: &mut ServiceRequest) {
    let headers = req.headers();
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0");
    if !has_body {
        return;
    }
    let inner = req.take_payload();
    let guarded: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(IdleDeadline {
            inner,
            sleep: Box::pin(tokio::time::sleep(IDLE)),
            expired: false,
        });
    req.set_payload(Payload::from(guarded));
}

/// Whether a body read failed because the body stopped arriving.
pub fn is_timeout(err: &PayloadError) -> bool {
    matches!(err, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

struct IdleDeadline {
    inner: Payload,
    sleep: Pin<Box<Sleep>>,
    expired: bool,
}

impl Stream for IdleDeadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(item) => {
                self.sleep.as_mut().reset(Instant::now() + IDLE);
                Poll::Ready(item)
            }
            Poll::Pending => match self.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.expired = true;
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body stopped arriving",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}
