/// Which kind of answer a sweep asks for.
public enum ExperimentMode: String, Sendable, CaseIterable, Hashable {
    /// Exact counts and predicted cycles from the models.
    case model
    /// Real measurements through `/dev/kvm`.
    case measure
}
