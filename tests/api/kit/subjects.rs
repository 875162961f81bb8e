//! The two subjects the kit runs on: users, through the server's own API, and the products of
//! `examples/products`.
use super::Subject;
use crate::helpers::TestApp;

/// Users, through the server's own API.
pub struct Users;

impl Subject for Users {
    const KIND: &'static str = "user";
    const TABLE: &'static str = "users";
    const NAME_COLUMN: &'static str = "full_name";
    const PAGE_KEY: &'static str = "{users}:list:0:100";
    fn pointer(tag: &str) -> String {
        format!("{tag}@example.com")
    }
    fn create(p: &str) -> String {
        format!(
            "mutation {{ x: createUser(input: {{ email: \"{p}\", fullName: \"Initial\", \
             password: \"password123\", role: USER }}) {{ id }} }}"
        )
    }
    fn rename(id: &str, name: &str) -> String {
        format!(
            "mutation {{ x: updateUser(id: \"{id}\", input: {{ fullName: \"{name}\" }}) {{ id }} }}"
        )
    }
    fn delete(id: &str) -> String {
        format!("mutation {{ x: deleteUser(id: \"{id}\") }}")
    }
    fn touch(id: &str, step: usize) -> String {
        let change = ["role: ADMIN", "isActive: false"][step % 2];
        format!("mutation {{ x: updateUser(id: \"{id}\", input: {{ {change} }}) {{ id }} }}")
    }
    fn by_id(id: &str) -> String {
        format!("{{ x: user(id: \"{id}\") {{ name: fullName }} }}")
    }
    fn by_pointer(p: &str) -> String {
        format!("{{ x: userByEmail(email: \"{p}\") {{ name: fullName }} }}")
    }
    fn page() -> String {
        "{ x: users(limit: 100) { p: email name: fullName } }".into()
    }
    fn loads(app: &TestApp) -> Option<u64> {
        Some(app.db_loads())
    }
}

/// Products, through the extension of `examples/products`.
pub struct Products;

impl Subject for Products {
    const KIND: &'static str = "product";
    const TABLE: &'static str = "products";
    const NAME_COLUMN: &'static str = "name";
    const PAGE_KEY: &'static str = "{products}:page:0:100";
    fn pointer(tag: &str) -> String {
        tag.to_owned()
    }
    fn create(p: &str) -> String {
        format!(
            "mutation {{ x: createProduct(input: {{ sku: \"{p}\", name: \"Initial\", \
             priceCents: 100 }}) {{ id }} }}"
        )
    }
    fn rename(id: &str, name: &str) -> String {
        format!("mutation {{ x: updateProduct(id: {id}, input: {{ name: \"{name}\" }}) {{ id }} }}")
    }
    fn delete(id: &str) -> String {
        format!("mutation {{ x: deleteProduct(id: {id}) }}")
    }
    fn touch(id: &str, step: usize) -> String {
        let cents = 200 + step;
        format!(
            "mutation {{ x: updateProduct(id: {id}, input: {{ priceCents: {cents} }}) {{ id }} }}"
        )
    }
    fn by_id(id: &str) -> String {
        format!("{{ x: product(id: {id}) {{ name }} }}")
    }
    fn by_pointer(p: &str) -> String {
        format!("{{ x: productBySku(sku: \"{p}\") {{ name }} }}")
    }
    fn page() -> String {
        "{ x: products(limit: 100) { p: sku name } }".into()
    }
}
