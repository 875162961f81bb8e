//! Integration tests: the real app over HTTP, real Redis servers, real databases.
mod helpers;

mod auth;
mod cache;
mod consistency;
mod http;
mod responses;
mod users;
