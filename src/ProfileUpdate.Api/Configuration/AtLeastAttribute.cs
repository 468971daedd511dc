namespace ProfileUpdate.Api.Configuration;

/// <summary>
/// A lower bound only. RangeAttribute with long.MaxValue as its top would print it as a double ("must be between 1 and
/// 9.223372036854776E+18"), which tells a reader nothing.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class AtLeastAttribute(long minimum) : ValidationAttribute("The field {0} must be at least {1}.")
{
    public long Minimum { get; } = minimum;

    public override bool IsValid(object? value) => value switch
    {
        null => true, // Required says whether a value must be there
        int i => i >= Minimum,
        long l => l >= Minimum,
        _ => false,
    };

    public override string FormatErrorMessage(string name) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, ErrorMessageString, name, Minimum);
}
