"""Django admin for organisations, memberships and API keys (secrets are never shown)."""

from django.contrib import admin, messages
from django.utils import timezone
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey as LibraryApiKey

from accounts.models import ApiKey, Membership, Organisation

# The library's own concrete model is unused: keys belong to organisations (accounts.ApiKey).
if admin.site.is_registered(LibraryApiKey):
    admin.site.unregister(LibraryApiKey)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "contact_email", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "created_at"]
    list_filter = ["role", "organisation"]
    search_fields = ["user__username", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "organisation", "role", "last_used_at"]
    list_filter = [*APIKeyModelAdmin.list_filter, "role", "organisation"]
    search_fields = [*APIKeyModelAdmin.search_fields, "organisation__name"]

    def save_model(self, request, obj, form, change):
        if change:
            if obj.revoked and obj.revoked_at is None:
                obj.revoked_at = timezone.now()
            return super().save_model(request, obj, form, change)
        obj.created_by = request.user
        secret = ApiKey.objects.assign_key(obj)
        obj.save()
        messages.add_message(
            request,
            messages.WARNING,
            f"The API key for {obj.name} is: {secret} — store it now, it is not shown again.",
        )
