//! Entry point of the web app: mounts [`fluxstrap_web::App`] on the page body.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(fluxstrap_web::App);
}
