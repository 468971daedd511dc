namespace ProfileUpdate.Api.Visits;

/// <summary>The (empty) page-load answer: no offers are served.</summary>
public sealed record DeliveryPageLoad;
