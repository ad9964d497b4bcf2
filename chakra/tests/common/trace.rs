//! Capturing the statements Chakra runs: each is a `tracing` event with target
//! `chakra::sql` (its SQL, bind count, row count, duration).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// The captured statement events, each as its fields by name.
pub type Events = Arc<Mutex<Vec<HashMap<String, String>>>>;

struct Capture(Events);

struct Fields(HashMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "chakra::sql" {
            let mut f = Fields(HashMap::new());
            event.record(&mut f);
            self.0.lock().unwrap().push(f.0);
        }
    }
}

/// A subscriber recording the statement events into the returned list.
pub fn statements() -> (Events, impl tracing::Subscriber + Send + Sync) {
    let events: Events = Arc::default();
    let subscriber = tracing_subscriber::registry().with(Capture(events.clone()));
    (events, subscriber)
}
