using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Visits;

/// <summary>The part of an Adobe Delivery API request this service reads (docs/api.md §3); everything else is ignored.</summary>
public sealed record DeliveryRequest(string? RequestId, string? TntId, string? ThirdPartyId, IReadOnlyList<ProfileAttribute> ProfileParameters);
