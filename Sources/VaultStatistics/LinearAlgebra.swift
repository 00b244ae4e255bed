internal import Foundation

/// A dense symmetric positive-definite matrix in row-major order, with the Cholesky factorization the fits need.
/// Internal: the public API speaks only of sums and statistics.
struct SymmetricMatrix: Sendable, Equatable {
    /// The dimension.
    let size: Int
    /// Row-major entries, `size * size` of them, kept symmetric by the callers.
    var entries: [Double]

    init(size: Int) {
        self.size = size
        entries = Array(repeating: 0, count: size * size)
    }

    subscript(i: Int, j: Int) -> Double {
        get { entries[i * size + j] }
        set { entries[i * size + j] = newValue }
    }
}

/// The Cholesky factor L (lower triangular, A = L Lᵀ) of a symmetric matrix scaled to unit diagonal, which makes
/// the pivot test a test of collinearity: pivot i squared is 1 − R² of column i regressed on the columns before it.
struct Cholesky: Sendable {
    /// The factor of D⁻¹ A D⁻¹ with D = diag(√a_ii), row-major lower triangle.
    private var factor: [Double]
    /// √a_ii.
    private let scales: [Double]
    let size: Int

    /// Why a factorization failed: the first column that is zero or a linear combination of the ones before it.
    enum Failure: Error { case zeroColumn(Int), collinear(Int) }

    /// Factors `matrix`; fails if a diagonal entry is not positive or a squared pivot of the unit-diagonal matrix falls
    /// below `tolerance` (1e-10 means R² > 1 − 1e-10 against the earlier columns).
    ///
    /// - Complexity: O(size³).
    init(_ matrix: SymmetricMatrix, tolerance: Double = 1e-10) throws(Failure) {
        size = matrix.size
        var scales = [Double](repeating: 0, count: size)
        for i in 0..<size {
            let diagonal = matrix[i, i]
            guard diagonal > 0, diagonal.isFinite else { throw .zeroColumn(i) }
            scales[i] = diagonal.squareRoot()
        }
        var l = [Double](repeating: 0, count: size * size)
        for j in 0..<size {
            var pivot = matrix[j, j] / (scales[j] * scales[j])
            for k in 0..<j { pivot -= l[j * size + k] * l[j * size + k] }
            guard pivot > tolerance, pivot.isFinite else { throw .collinear(j) }
            let root = pivot.squareRoot()
            l[j * size + j] = root
            for i in (j + 1)..<max(size, j + 1) {
                var value = matrix[i, j] / (scales[i] * scales[j])
                for k in 0..<j { value -= l[i * size + k] * l[j * size + k] }
                l[i * size + j] = value / root
            }
        }
        factor = l
        self.scales = scales
    }

    /// Solves A x = b.
    func solve(_ b: [Double]) -> [Double] {
        // A = D L Lᵀ D, so x = D⁻¹ L⁻ᵀ L⁻¹ D⁻¹ b.
        var y = (0..<size).map { b[$0] / scales[$0] }
        for i in 0..<size {
            var value = y[i]
            for k in 0..<i { value -= factor[i * size + k] * y[k] }
            y[i] = value / factor[i * size + i]
        }
        for i in stride(from: size - 1, through: 0, by: -1) {
            var value = y[i]
            for k in (i + 1)..<max(size, i + 1) { value -= factor[k * size + i] * y[k] }
            y[i] = value / factor[i * size + i]
        }
        return (0..<size).map { y[$0] / scales[$0] }
    }

    /// A⁻¹.
    func inverse() -> SymmetricMatrix {
        var result = SymmetricMatrix(size: size)
        for j in 0..<size {
            var unit = [Double](repeating: 0, count: size)
            unit[j] = 1
            let column = solve(unit)
            for i in 0..<size { result[i, j] = column[i] }
        }
        // Symmetrize the rounding.
        for i in 0..<size {
            for j in (i + 1)..<max(size, i + 1) {
                let mean = (result[i, j] + result[j, i]) / 2
                result[i, j] = mean
                result[j, i] = mean
            }
        }
        return result
    }

    /// log det A.
    var logDeterminant: Double {
        var total = 0.0
        for i in 0..<size { total += 2 * (log(scales[i]) + log(factor[i * size + i])) }
        return total
    }
}
