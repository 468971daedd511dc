using System.Diagnostics.CodeAnalysis;

namespace ProfileUpdate.Api.Text;

/// <summary>
/// What every parser of the service returns: the parsed value, or the sentence that tells a human what is wrong (the
/// message of a 400, or of a failed batch row). Checks that only say "fine, or why not" return that sentence as a plain
/// <c>string?</c> instead (null when fine), and parsers wrap it with <see cref="Fail"/>.
/// </summary>
[SuppressMessage("Design", "CA1000:Do not declare static members on generic types",
    Justification = "A result type's factories read best on the type itself: Parsed<BatchHeader>.Fail(…).")]
public readonly record struct Parsed<T>(T? Value, string? Error) where T : class
{
    [MemberNotNullWhen(true, nameof(Value))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Succeeded => Error is null && Value is not null;

    public static Parsed<T> Ok(T value) => new(value, null);

    public static Parsed<T> Fail(string error) => new(null, error);
}
