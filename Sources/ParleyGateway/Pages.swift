import Foundation
import Hummingbird
import Mustache

/// The server-rendered pages: Mustache templates from the module's resources, which
/// escape every `{{value}}` as HTML.
struct Pages: Sendable {
    let library: MustacheLibrary
    let stylesheet: String

    /// Loads the templates and the stylesheet from `Resources/`.
    static func load() async throws -> Pages {
        MustacheContentTypes.register(ScalarHTMLEscaping(), named: ScalarHTMLEscaping.name)
        let root = Bundle.module.bundleURL.appendingPathComponent("Resources")
        let library = try await MustacheLibrary(directory: root.appendingPathComponent("templates").path)
        let stylesheet = try String(contentsOf: root.appendingPathComponent("parley.css"), encoding: .utf8)
        return Pages(library: library, stylesheet: stylesheet)
    }

    /// Renders template `name` with `values` as an HTML response.
    func render(_ name: String, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let html = self.library.render(values, withTemplate: name) ?? "<!doctype html><p>Page \(name) is missing.</p>"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        // Pages carry no script of their own: forbid any that an escaping bug might let in.
        headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self'"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The stylesheet, cacheable.
    func stylesheetResponse() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/css; charset=utf-8"
        headers[.cacheControl] = "public, max-age=3600"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: self.stylesheet)))
    }

    /// Reads the API description served at `/api/v1/openapi.yaml`.
    static func openAPIDocument() throws -> String {
        let url = Bundle.module.bundleURL.appendingPathComponent("Resources/openapi.yaml")
        return try String(contentsOf: url, encoding: .utf8)
    }
}

/// HTML escaping for every template (each starts with `{{% CONTENT_TYPE: PARLEY_HTML}}`).
///
/// swift-mustache's own escaping looks at whole characters, so a `"` followed by a combining
/// accent (one character, two scalars) would go out unescaped and could close an attribute.
/// This one looks at every Unicode scalar.
struct ScalarHTMLEscaping: MustacheContentType {
    static let name = "PARLEY_HTML"

    func escapeText(_ text: String) -> String {
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped.append(contentsOf: "&amp;".unicodeScalars)
            case "<": escaped.append(contentsOf: "&lt;".unicodeScalars)
            case ">": escaped.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": escaped.append(contentsOf: "&quot;".unicodeScalars)
            case "'": escaped.append(contentsOf: "&#39;".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }
}
