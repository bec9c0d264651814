/// Comparisons whose running time does not depend on where the inputs differ.
enum ConstantTime {
    /// Whether `a` and `b` have the same UTF-8 bytes, looking at every byte of the longer one
    /// whatever the contents; only the lengths (6 digits, public) can show in the timing.
    static func equals(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        let length = max(left.count, right.count)
        for index in 0..<length {
            let x = index < left.count ? left[index] : 0
            let y = index < right.count ? right[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
