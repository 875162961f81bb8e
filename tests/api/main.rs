//! Integration tests: the real app over HTTP, real Redis servers, real databases.
mod fixtures;
mod helpers;

mod attacks;
mod auth;
mod cache;
mod consistency;
mod deployments;
mod http;
mod products;
mod proxy;
mod responses;
mod server;
mod stress;
mod throttle;
mod topology;
mod users;
