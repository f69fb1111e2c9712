//! [`Router`]: one queue, several message types, a handler for each.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::{Service, ServiceExt};
use weir_sqs::Message;

use crate::handler::{BoxError, HandlerError};

type Route = Arc<dyn Fn(Message<Value>) -> BoxFuture<'static, Result<(), BoxError>> + Send + Sync>;

/// Sends each message to a handler chosen by its type tag: the `weir.type` message
/// attribute ([`weir_sqs::codec::TYPE_TAG_ATTRIBUTE`]) that `TaggedJson` producers set.
///
/// The worker decodes bodies as JSON ([`Message<serde_json::Value>`]); the router then
/// decodes each body into its route's type. A body that does not fit the route's type,
/// or a tag with no route (and no [`fallback`](Self::fallback)), is rejected
/// (dead-lettered).
///
/// # Examples
///
/// ```
/// use serde::Deserialize;
/// use weir_worker::{handler_fn, HandlerError, Message, Router};
///
/// #[derive(Deserialize)]
/// struct Placed { id: u64 }
/// #[derive(Deserialize)]
/// struct Cancelled { id: u64 }
///
/// let router = Router::new()
///     .route("Placed", handler_fn(|m: Message<Placed>| async move {
///         let _id = m.body().map(|p| p.id);
///         Ok::<_, HandlerError>(())
///     }))
///     .route("Cancelled", handler_fn(|m: Message<Cancelled>| async move {
///         let _id = m.body().map(|c| c.id);
///         Ok::<_, HandlerError>(())
///     }));
/// // Worker::builder(queue).handler(router)
/// # let _ = router;
/// ```
#[derive(Clone, Default)]
pub struct Router {
    routes: HashMap<String, Route>,
    fallback: Option<Route>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut tags: Vec<&String> = self.routes.keys().collect();
        tags.sort();
        f.debug_struct("Router")
            .field("routes", &tags)
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

fn typed<U, S>(service: S) -> Route
where
    U: DeserializeOwned + Send + Sync + 'static,
    S: Service<Message<U>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
{
    Arc::new(move |msg: Message<Value>| {
        let service = service.clone();
        Box::pin(async move {
            let parsed = match msg.body() {
                Ok(value) => U::deserialize(value).map_err(|e| {
                    HandlerError::reject(format!(
                        "body does not fit {}: {e}",
                        std::any::type_name::<U>()
                    ))
                })?,
                Err(e) => return Err(HandlerError::reject(e.to_string()).into()),
            };
            let msg = msg.map(move |_| parsed);
            service.oneshot(msg).await.map(|_| ()).map_err(Into::into)
        })
    })
}

impl Router {
    /// A router with no routes.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends messages tagged `tag` to `service`, decoding their bodies into `U`.
    #[must_use]
    pub fn route<U, S>(mut self, tag: impl Into<String>, service: S) -> Self
    where
        U: DeserializeOwned + Send + Sync + 'static,
        S: Service<Message<U>> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
    {
        self.routes.insert(tag.into(), typed(service));
        self
    }

    /// Handles messages with no tag, or a tag with no route.
    #[must_use]
    pub fn fallback<S>(mut self, service: S) -> Self
    where
        S: Service<Message<Value>> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
    {
        self.fallback = Some(typed(service));
        self
    }
}

impl Service<Message<Value>> for Router {
    type Response = ();
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<(), BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, msg: Message<Value>) -> Self::Future {
        let route = msg
            .type_tag()
            .and_then(|t| self.routes.get(t))
            .or(self.fallback.as_ref());
        match route {
            Some(route) => route(msg),
            None => {
                let tag = msg.type_tag().unwrap_or("<none>").to_owned();
                Box::pin(async move {
                    Err(HandlerError::reject(format!("no route for type tag {tag}")).into())
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_lists_routes() {
        let r = Router::new().route(
            "A",
            crate::handler_fn(|_m: Message<u8>| async { Ok::<_, HandlerError>(()) }),
        );
        assert_eq!(
            format!("{r:?}"),
            r#"Router { routes: ["A"], fallback: false }"#
        );
    }
}
