//! The browser APIs the demo needs, wrapped into `Result`s with readable errors: `fetch`,
//! reading an uploaded file, the high-resolution clock, and drawing pixels on a canvas.

use js_sys::Uint8Array;
use wasm_bindgen::{Clamped, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, File, HtmlCanvasElement, ImageData, Response};

use crate::state::DemoError;

fn window() -> Result<web_sys::Window, DemoError> {
    web_sys::window().ok_or_else(|| DemoError::Browser("no window object".into()))
}

fn describe(value: &JsValue) -> String {
    value
        .as_string()
        .or_else(|| {
            value
                .dyn_ref::<js_sys::Error>()
                .map(|error| String::from(error.message()))
        })
        .unwrap_or_else(|| format!("{value:?}"))
}

/// GET `url` (relative to the page) and return the body's bytes; a missing file or an HTTP
/// error is [`DemoError::Fetch`] naming the URL and the status.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, DemoError> {
    let fetch_error = |detail: String| DemoError::Fetch {
        url: url.to_owned(),
        detail,
    };
    let promise = window()?.fetch_with_str(url);
    let response: Response = JsFuture::from(promise)
        .await
        .map_err(|error| fetch_error(describe(&error)))?
        .dyn_into()
        .map_err(|_| fetch_error("not an HTTP response".into()))?;
    if !response.ok() {
        return Err(fetch_error(format!(
            "HTTP {} {}",
            response.status(),
            response.status_text()
        )));
    }
    let buffer = JsFuture::from(
        response
            .array_buffer()
            .map_err(|error| fetch_error(describe(&error)))?,
    )
    .await
    .map_err(|error| fetch_error(describe(&error)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// GET `url` as UTF-8 text.
pub async fn fetch_text(url: &str) -> Result<String, DemoError> {
    let bytes = fetch_bytes(url).await?;
    String::from_utf8(bytes).map_err(|_| DemoError::Fetch {
        url: url.to_owned(),
        detail: "not UTF-8 text".into(),
    })
}

/// The bytes of a file the user picked or dropped.
pub async fn read_file(file: &File) -> Result<Vec<u8>, DemoError> {
    let buffer = JsFuture::from(file.array_buffer()).await.map_err(|error| {
        DemoError::Browser(format!("reading {}: {}", file.name(), describe(&error)))
    })?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Milliseconds since the page started (sub-millisecond resolution where the browser allows).
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|window| window.performance())
        .map(|performance| performance.now())
        .unwrap_or_default()
}

/// The page's `?key=value` query parameter.
pub fn query_parameter(key: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == key)
        .map(|(_, value)| value.to_owned())
}

/// Whether the browser exposes `navigator.gpu` at all (WebGPU may still have no adapter).
pub fn has_webgpu_api() -> bool {
    web_sys::window()
        .map(|window| {
            js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("gpu"))
                .map(|gpu| !gpu.is_undefined() && !gpu.is_null())
                .unwrap_or(false)
        })
        .unwrap_or(false)
}

/// Draw opaque RGBA pixels (`size × size`) on `canvas`, resizing its backing store to match.
pub fn draw_rgba(canvas: &HtmlCanvasElement, rgba: &[u8], size: u32) -> Result<(), DemoError> {
    canvas.set_width(size);
    canvas.set_height(size);
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(|error| DemoError::Browser(describe(&error)))?
        .ok_or_else(|| DemoError::Browser("no 2-D canvas context".into()))?
        .dyn_into()
        .map_err(|_| DemoError::Browser("not a 2-D canvas context".into()))?;
    let image = ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), size, size)
        .map_err(|error| DemoError::Browser(describe(&error)))?;
    context
        .put_image_data(&image, 0.0, 0.0)
        .map_err(|error| DemoError::Browser(describe(&error)))
}
