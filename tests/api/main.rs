//! Integration tests: the real app over HTTP, real Redis servers, real databases.
mod helpers;

mod auth;
mod cache;
mod http;
mod users;
