import Foundation
import Hummingbird
import Mustache

/// The server-rendered pages: Mustache templates from the module's resources, which
/// escape every `{{value}}` as HTML.
struct Pages: Sendable {
    let library: MustacheLibrary
    /// The files served under `/static/`: name → (content type, text).
    let assets: [String: (contentType: String, text: String)]

    /// The files of `Resources/static/` and their types.
    static let assetTypes = [
        "parley.css": "text/css; charset=utf-8", "countdown.js": "text/javascript; charset=utf-8",
        "chat.js": "text/javascript; charset=utf-8",
    ]

    /// The Content-Security-Policy of every page: scripts only from the gateway's own files, never
    /// inline, so a script that an escaping bug let into a page would not run.
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"

    /// The chat page's policy: the same, and its script may also open WebSockets (`ws:`/`wss:`)
    /// to the chat server the balancer names. That server is on another port or host, chosen
    /// per ticket, so no fixed origin can be listed; everything else stays `'self'`.
    static let chatContentSecurityPolicy = contentSecurityPolicy + "; connect-src 'self' ws: wss:"

    /// Loads the templates and the static files from `Resources/`.
    static func load() async throws -> Pages {
        MustacheContentTypes.register(ScalarHTMLEscaping(), named: ScalarHTMLEscaping.name)
        let root = Bundle.module.bundleURL.appendingPathComponent("Resources")
        let library = try await MustacheLibrary(directory: root.appendingPathComponent("templates").path)
        var assets: [String: (contentType: String, text: String)] = [:]
        for (name, type) in Self.assetTypes {
            assets[name] = (type, try String(contentsOf: root.appendingPathComponent("static/" + name), encoding: .utf8))
        }
        return Pages(library: library, assets: assets)
    }

    /// Renders template `name` with `values` as an HTML response under the policy `csp`.
    func render(
        _ name: String, _ values: [String: Any], status: HTTPResponse.Status = .ok, csp: String = Pages.contentSecurityPolicy
    ) -> Response {
        let html = self.library.render(values, withTemplate: name) ?? "<!doctype html><p>Page \(name) is missing.</p>"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = csp
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A file of `/static/`, cacheable; `nil` for an unknown name.
    func assetResponse(_ name: String) -> Response? {
        guard let asset = self.assets[name] else { return nil }
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.cacheControl] = "public, max-age=3600"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: asset.text)))
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
