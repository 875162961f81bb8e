//! Every user query and mutation, with each cache backend and database, and the error codes.
//!
//! By concern: `crud` (create, read, update, delete, stats, pages), `lookups` (by email, the
//! warm list, an absent id), `pages` (what an update, a create and a delete drop) and `errors`
//! (validation, conflicts, not found).
mod crud;
mod errors;
mod lookups;
mod pages;
