namespace ProfileUpdate.Api.Visits;

/// <summary>The execute part of a delivery answer.</summary>
public sealed record DeliveryExecute(DeliveryPageLoad PageLoad);
