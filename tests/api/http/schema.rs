//! The schema file: `schema.graphql` is what the code generates, and keeps the contract.
#[test]
fn schema_graphql_is_what_the_code_generates() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql is committed");
    let generated = cachegraph::graphql::sdl();
    assert!(
        committed == generated,
        "schema.graphql is stale: run `cargo run -- export-schema schema.graphql`"
    );
}

#[test]
fn schema_keeps_the_contract() {
    let sdl = cachegraph::graphql::sdl();
    for line in [
        "me: User!",
        "user(id: ID!): User",
        "userByEmail(email: String!): User",
        "users(skip: Int! = 0, limit: Int! = 100): [User!]!",
        "cacheStats: CacheStats!",
        "login(email: String!, password: String!): AuthPayload!",
        "createUser(input: CreateUserInput!): User!",
        "updateUser(id: ID!, input: UpdateUserInput!): User!",
        "deleteUser(id: ID!): Boolean!",
        "clearCache(pattern: String! = \"*\"): ClearCacheResult!",
        "role: Role = USER",
        "isActive: Boolean = true",
        "hitRate: Float!",
        "keys: Int",
        "usedMemoryHuman: String",
    ] {
        assert!(sdl.contains(line), "missing `{line}`");
    }
}
