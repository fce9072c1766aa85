from django.shortcuts import render


def home(request):
    """Render the public home page of the portal."""
    return render(request, "portal/home.html")
