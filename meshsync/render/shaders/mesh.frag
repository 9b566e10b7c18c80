#version 330
// Albedo (factor x vertex colour x texture) times the light from the vertex shader, plus highlights and
// emission, finished as sRGB. PER_VERTEX variants only pass on the colour the vertex shader finished.
uniform vec4 base_color;            // linear RGBA
uniform sampler2D base_texture;     // sRGB, decoded by the texture format
uniform sampler2D emissive_texture; // sRGB
uniform sampler2D normal_texture;   // linear, tangent space
uniform float normal_scale;
uniform sampler2D occlusion_texture;          // linear, R
uniform float occlusion_strength;
uniform sampler2D metallic_roughness_texture; // linear, G roughness, B metalness
uniform float metallic;
uniform float roughness;
uniform vec3 shade_color;           // MToon: the colour a surface turned from a light takes
uniform float shading_shift;
uniform float shading_toony;
uniform float alpha_cutoff;
uniform bool double_sided;

in vec3 v_position;
in vec3 v_normal;
in vec2 v_base_uv;       // each texture's UVs, transformed per vertex (the transform is affine)
in vec2 v_emissive_uv;
in vec2 v_normal_uv;
in vec2 v_occlusion_uv;
in vec2 v_metallic_roughness_uv;
in vec4 v_tangent;
in vec4 v_color;
in vec3 v_diffuse;
in vec3 v_specular;

out vec4 frag_color;

// The normal seen from the side drawn: a double-sided surface's back faces the other way.
vec3 facing(vec3 n) {
    return double_sided && !gl_FrontFacing ? -n : n;
}

#ifdef DETAIL
// Every pixel lit: the normal map bends the normal, occlusion darkens the ambient light, the
// metallic-roughness texture sets the highlight's breadth and how much of the albedo is diffuse.
vec3 detailed(vec3 albedo) {
    vec3 n = facing(normalize(v_normal));
#ifdef NORMAL_MAP
    vec3 t = normalize(v_tangent.xyz - n * dot(n, v_tangent.xyz));
    vec3 b = cross(n, t) * v_tangent.w;
    vec3 bent = (texture(normal_texture, v_normal_uv).rgb * 2.0 - 1.0) * vec3(normal_scale, normal_scale, 1.0);
    n = normalize(t * bent.x + b * bent.y + n * bent.z);
#endif
    float ao = 1.0, rough = roughness, metal = metallic;
#ifdef OCCLUSION_TEXTURE
    ao = 1.0 + occlusion_strength * (texture(occlusion_texture, v_occlusion_uv).r - 1.0);
#endif
#ifdef METALLIC_ROUGHNESS_TEXTURE
    vec4 mr = texture(metallic_roughness_texture, v_metallic_roughness_uv);
    rough *= mr.g;
    metal *= mr.b;
#endif
    float r = clamp(rough, 0.05, 1.0);
    float s = clamp(2.0 / (r * r * r * r) - 2.0, 1.0, 512.0);
    vec3 f0 = mix(vec3(0.04), albedo, metal);  // reflectance at normal incidence: a metal's takes its colour
    return albedo * (1.0 - metal) * (ambient(n) * ao + direct(n))
           + f0 * (ambient(n) * ao + highlight(n, normalize(-v_position), s) / 0.04);  // the sky, and the key
}
#endif

#ifdef MTOON
// VRM MToon's ramp: each light mixes the shade colour into the lit one by dot(n, l) + shift through a ramp
// 2 x (1 - toony) wide; the ambient light takes the lit colour.
vec3 toon(vec3 albedo) {
    vec3 n = facing(normalize(v_normal));
    vec3 light = ambient(n) * albedo;
    for (int i = 0; i < 3; ++i) {
        float shading = clamp((dot(n, light_dir[i]) + shading_shift + 1.0 - shading_toony)
                              / max(2.0 - 2.0 * shading_toony, 1e-4), 0.0, 1.0);
        light += light_color[i] * mix(shade_color, albedo, shading);
    }
    return light;
}
#endif

void main() {
#ifdef PER_VERTEX
    frag_color = v_color;
#ifdef ALPHA_MASK
    if (v_color.a < alpha_cutoff) discard;
    frag_color.a = 1.0;
#endif
#else
    vec4 albedo = base_color * v_color;
#ifdef TEXTURE
    albedo *= texture(base_texture, v_base_uv);
#endif
#ifdef ALPHA_MASK
    if (albedo.a < alpha_cutoff) discard;
#endif
#ifdef UNLIT
    vec3 colour = albedo.rgb;
#elif defined(DETAIL)
    vec3 colour = detailed(albedo.rgb);
#elif defined(MTOON)
    vec3 colour = toon(albedo.rgb);
#else
    vec3 colour = albedo.rgb * v_diffuse + v_specular;
#endif
#ifndef UNLIT
#ifdef EMISSIVE_TEXTURE
    colour += emissive * texture(emissive_texture, v_emissive_uv).rgb;
#else
    colour += emissive;
#endif
#if defined(PIXEL_SPECULAR) && !defined(DETAIL)
    colour += highlight(facing(normalize(v_normal)), normalize(-v_position), shininess);
#endif
#endif
    frag_color = finish(colour, albedo.a);
#endif
}
