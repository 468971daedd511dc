namespace ProfileUpdate.Api.Visits;

/// <summary>The visitor's ids in a delivery answer.</summary>
public sealed record DeliveryId(string TntId, string? ThirdPartyId);
