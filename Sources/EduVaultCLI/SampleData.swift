import ArgumentParser
import Foundation

/// Generates realistic-looking, entirely synthetic school data: per-school score CSVs in the format
/// `school encrypt` reads, and a school registry (`schools.csv`) for `school add`.
///
/// Model (per student, per subject, on a 0–100 scale with one decimal): score = mean + sd·(ability + effects),
/// ability ~ N(0, 1) per student (shared by both subjects, correlation ≈ 0.6 through a subject-specific term),
/// effects: rural school −0.30 SD; livestream-classroom programme +0.18 SD in maths and +0.23 SD in Chinese.
/// With `covariates`, each row also gets `prior_score` (0–100): last year's score in the subject, 0.7·score +
/// 0.3·subject mean + N(0, 6²) noise, drawn from a second random stream so the scores are the same with or without it
/// (a regression of score on prior_score then has a slope of about 1 and R² ≈ 0.75).
struct SampleDataGenerator {
    struct School {
        var id: String
        var region: String
        var province: String
        var county: String
        var program: String
        var students: Int
    }

    static let provinces: [(name: String, code: String, county: String, smallCounty: String)] = [
        ("Guangdong", "GD", "Qingyuan", "Lianshan"), ("Sichuan", "SC", "Liangshan", "Muli"),
        ("Gansu", "GS", "Dingxi", "Minle"),
    ]
    static let subjects: [(name: String, mean: Double, sd: Double, livestreamGain: Double)] = [
        ("math", 68, 14, 0.18), ("chinese", 72, 12, 0.23),
    ]
    static let ruralGap = -0.30

    var schools: Int
    var students: Int
    var smallSchools: Int
    var smallSchoolStudents: Int = 6
    var seed: UInt64
    /// Add a `prior_score` column (declare it with `vault init --covariate prior_score:0:100`).
    var covariates = false

    func plan() -> [School] {
        var out: [School] = []
        for i in 0..<schools {
            let p = Self.provinces[i % Self.provinces.count]
            let rural = i % 2 == 0
            // Regions alternate, and so does the livestream-classroom programme within each region: any four
            // consecutive schools hold every region × programme combination.
            let livestream = (i / 2) % 2 == 0
            out.append(School(id: String(format: "%@-%@%02d", p.code, rural ? "R" : "U", i + 1), region: rural ? "rural" : "urban",
                              province: p.name, county: p.county, program: livestream ? "livestream" : "standard",
                              students: students))
        }
        for j in 0..<smallSchools {
            let p = Self.provinces[(Self.provinces.count - 1 - j % Self.provinces.count)]
            out.append(School(id: String(format: "%@-R%02d", p.code, schools + j + 1), region: "rural", province: p.name,
                              county: p.smallCounty, program: "standard", students: smallSchoolStudents))
        }
        return out
    }

    /// One generated score.
    struct Row {
        var school: School
        var student: String
        var subject: String
        /// The score with one decimal place, as the CSV holds it.
        var score: String
        var grade: String
        var term: String
        var sex: String
        var residence: String
        /// The prior score with one decimal place, with `covariates`.
        var prior: String?
    }

    /// Every school's rows, in order (deterministic in the seed).
    func rows() -> (plan: [School], rows: [Row]) {
        var rng = DemoRandom(seed: seed)
        var priorRNG = DemoRandom(seed: seed ^ 0x7072_696F_725F_7363)  // a separate stream: scores stay the same
        let plan = plan()
        var rows: [Row] = []
        for school in plan {
            for s in 0..<school.students {
                let ability = rng.normal()
                let grade = ["10", "11", "12"][Int(rng.next() % 3)]
                let sex = rng.next() % 2 == 0 ? "F" : "M"
                let residence = school.region == "urban" && rng.next() % 10 == 0 ? "rural" : school.region
                let studentID = String(format: "%@-S%04d", school.id, s + 1)
                for subject in Self.subjects {
                    var z = 0.8 * ability + 0.6 * rng.normal()
                    if school.region == "rural" { z += Self.ruralGap }
                    if school.program == "livestream" { z += subject.livestreamGain }
                    let score = min(100, max(0, (subject.mean + subject.sd * z) * 10).rounded() / 10)
                    var prior: String?
                    if covariates {
                        let value = 0.7 * score + 0.3 * subject.mean + 6 * priorRNG.normal()
                        prior = String(format: "%.1f", min(100, max(0, (value * 10).rounded() / 10)))
                    }
                    rows.append(Row(school: school, student: studentID, subject: subject.name,
                                    score: String(format: "%.1f", score), grade: grade, term: "2025-1", sex: sex,
                                    residence: residence, prior: prior))
                }
            }
        }
        return (plan, rows)
    }

    /// Writes `schools.csv` and one `<id>.csv` per school into `directory`; returns the plan.
    func write(to directory: URL) throws -> [School] {
        let (plan, rows) = rows()
        var registry = "id,region,province,county,program\n"
        for school in plan {
            registry += "\(school.id),\(school.region),\(school.province),\(school.county),\(school.program)\n"
            var csv = "student_id,subject,score,grade,term,sex,residence" + (covariates ? ",prior_score\n" : "\n")
            for row in rows where row.school.id == school.id {
                csv += "\(row.student),\(row.subject),\(row.score),\(row.grade),\(row.term),\(row.sex),\(row.residence)"
                    + (row.prior.map { ",\($0)\n" } ?? "\n")
            }
            try Files.write(Data(csv.utf8), to: directory.appendingPathComponent("\(school.id).csv").path, overwrite: true,
                            what: "sample data")
        }
        try Files.write(Data(registry.utf8), to: directory.appendingPathComponent("schools.csv").path, overwrite: true,
                        what: "school registry")
        return plan
    }
}

/// SplitMix64 with a Box–Muller normal: reproducible synthetic data from a seed (not for cryptography).
struct DemoRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
    mutating func normal() -> Double {
        (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform())
    }
}

struct SampleDataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample-data",
        abstract: "Write synthetic per-school score CSVs and a school registry to try the real commands on.",
        discussion: """
            Schools are spread over Guangdong, Sichuan and Gansu, rural and urban; half take part in a \
            livestream-classroom programme (+0.18 SD maths, +0.23 SD Chinese); rural schools score 0.30 SD lower. \
            Register each row of schools.csv with `eduvault school add --attr region=… --attr province=…`, then \
            encrypt each <id>.csv with `eduvault school encrypt`. No real student is involved. With --covariates \
            every row also has a prior_score column (last year's score in the subject, correlated with the score), \
            for a vault made with `vault init --covariate prior_score:0:100`.
            """
    )

    @Option(help: "Number of schools.") var schools: Int = 12
    @Option(help: "Students per school (each has a maths and a Chinese score).") var students: Int = 100
    @Option(help: "Extra very small rural schools (6 students each), to see the policy's small-cell rules at work.")
    var smallSchools: Int = 0
    @Option(help: "Random seed, for reproducible data.") var seed: UInt64 = 2026
    @Option(help: "Output directory (created if needed).") var out: String
    @Flag(help: "Add a prior_score column (a covariate: declare it with `vault init --covariate prior_score:0:100`).")
    var covariates = false

    func run() async throws {
        guard (1...10_000).contains(schools), (1...1_000_000).contains(students), (0...100).contains(smallSchools) else {
            throw CLIError("--schools must be 1–10000, --students 1–1000000, --small-schools 0–100")
        }
        try Files.ensureDirectory(out)
        let plan = try SampleDataGenerator(schools: schools, students: students, smallSchools: smallSchools, seed: seed,
                                           covariates: covariates)
            .write(to: URL(fileURLWithPath: out))
        let records = plan.reduce(0) { $0 + $1.students } * SampleDataGenerator.subjects.count
        print("wrote \(plan.count) school CSVs (\(records) scores) and schools.csv to \(out)")
    }
}
